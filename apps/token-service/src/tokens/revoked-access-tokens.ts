import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { CLOCK, type Clock } from '../common/clock.js';

/** Expired entries are deleted this often; an expired token is rejected by its `exp` anyway. */
const purgeIntervalMs = 60_000;

/**
 * The `revoked_access_tokens` table: ids (jti) of access tokens revoked through RFC 7009, kept
 * until the token would have expired.
 */
@Injectable()
export class RevokedAccessTokens implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RevokedAccessTokens.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.purgeExpired(), purgeIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async add(jti: string, clientId: string, expiresAt: Date): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO revoked_access_tokens (jti, client_id, expires_at, revoked_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (jti) DO NOTHING`,
      [jti, clientId, expiresAt, this.clock.now()],
    );
  }

  async isRevoked(jti: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM revoked_access_tokens WHERE jti = $1', [jti]);
    return rows.length > 0;
  }

  private async purgeExpired(): Promise<void> {
    try {
      await this.dataSource.query('DELETE FROM revoked_access_tokens WHERE expires_at < $1', [this.clock.now()]);
    } catch (error) {
      this.logger.warn({ err: error }, 'Purging expired revoked access tokens failed');
    }
  }
}
