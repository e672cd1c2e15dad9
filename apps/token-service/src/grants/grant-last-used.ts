import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { TOKEN_SERVICE_CONFIG, type TokenServiceConfig } from '../config/token-service.config.js';

/**
 * Records when a grant was last used, for the idle timeout. The row is written only when the
 * recorded use is older than TOKEN_LAST_USED_WRITE_INTERVAL_SECONDS, so most refreshes write
 * nothing. Two instances that read the same old value may both write once.
 */
@Injectable()
export class GrantLastUsed {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(TOKEN_SERVICE_CONFIG) private readonly config: TokenServiceConfig,
  ) {}

  /** Records a use at `now` unless the recorded one, `previous`, is recent enough. */
  async touch(grantId: string, previous: Date | null, now: Date): Promise<void> {
    const intervalMs = this.config.TOKEN_LAST_USED_WRITE_INTERVAL_SECONDS * 1000;
    if (previous && now.getTime() - previous.getTime() < intervalMs) return;
    // The WHERE keeps another instance's newer write, so the time only moves forward.
    await this.dataSource.query(
      `INSERT INTO grant_last_used (grant_id, last_used_at) VALUES ($1, $2)
       ON CONFLICT (grant_id) DO UPDATE SET last_used_at = EXCLUDED.last_used_at
        WHERE grant_last_used.last_used_at < EXCLUDED.last_used_at`,
      [grantId, now],
    );
  }
}
