import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { TOKEN_SERVICE_CONFIG, type TokenServiceConfig } from '../config/token-service.config.js';
import { ActiveGrants } from './active-grants.js';
import { GrantProjection } from './grant-projection.js';

/** Rows per INSERT statement of a flush. */
const flushChunkSize = 5000;

/**
 * Records when a grant was last used, for the idle timeout. A use is recorded only when the
 * recorded one is older than TOKEN_LAST_USED_WRITE_INTERVAL_SECONDS, so most refreshes record
 * nothing. Recorded uses are written to grant_last_used in batches every
 * TOKEN_LAST_USED_FLUSH_INTERVAL_MS, off the request path. Two instances that read the same old
 * value may both write once.
 *
 * NOTE: a use recorded less than one flush interval before the process dies is lost, so until
 * the grant is used again it looks idle since the use recorded before that one.
 */
@Injectable()
export class GrantLastUsed implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(GrantLastUsed.name);
  /** Uses waiting for the next flush: grant id to epoch milliseconds. */
  private pending = new Map<string, number>();
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(ActiveGrants) private readonly activeGrants: ActiveGrants,
    @Inject(GrantProjection) private readonly projection: GrantProjection,
    @Inject(TOKEN_SERVICE_CONFIG) private readonly config: TokenServiceConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), this.config.TOKEN_LAST_USED_FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Records a use at `now` unless the recorded one, `previous`, is recent enough. The write happens at the next flush. */
  async touch(grantId: string, previous: Date | null, now: Date): Promise<void> {
    const intervalMs = this.config.TOKEN_LAST_USED_WRITE_INTERVAL_SECONDS * 1000;
    if (previous && now.getTime() - previous.getTime() < intervalMs) return;
    const usedAtMs = now.getTime();
    this.pending.set(grantId, Math.max(this.pending.get(grantId) ?? usedAtMs, usedAtMs));
    this.activeGrants.recordLastUse(grantId, now);
  }

  /**
   * Returns the latest use of a grant among `known`, a use waiting for the flush, and the stored
   * one, which another instance may have moved. Callers ask before they declare a grant idle.
   */
  async latestUse(grantId: string, known: Date | null): Promise<Date | null> {
    const stored = await this.projection.lastUsedAt(grantId);
    const candidates = [known?.getTime(), this.pending.get(grantId), stored?.getTime()].filter((value): value is number => value !== undefined);
    if (candidates.length === 0) return null;
    const latest = new Date(Math.max(...candidates));
    this.activeGrants.recordLastUse(grantId, latest);
    return latest;
  }

  /** Writes the pending uses. One flush runs at a time, and a failed one keeps its uses for the next. */
  flush(): Promise<void> {
    this.flushing ??= this.writePending().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const entries = [...batch];
    try {
      for (let start = 0; start < entries.length; start += flushChunkSize) {
        const chunk = entries.slice(start, start + flushChunkSize);
        // The WHERE keeps another instance's newer write, so the time only moves forward.
        await this.dataSource.query(
          `INSERT INTO grant_last_used (grant_id, last_used_at)
           SELECT * FROM unnest($1::uuid[], $2::timestamptz[])
           ON CONFLICT (grant_id) DO UPDATE SET last_used_at = EXCLUDED.last_used_at
            WHERE grant_last_used.last_used_at < EXCLUDED.last_used_at`,
          [chunk.map(([grantId]) => grantId), chunk.map(([, usedAtMs]) => new Date(usedAtMs))],
        );
        for (const [grantId] of chunk) batch.delete(grantId);
      }
      if (this.failing) this.logger.log('Writing grant last-use times recovered');
      this.failing = false;
    } catch (error) {
      // Logged once per outage. The unwritten uses wait for the next flush.
      if (!this.failing) this.logger.warn({ err: error, pendingGrants: batch.size }, 'Writing grant last-use times failed, retrying at the next flush');
      this.failing = true;
      for (const [grantId, usedAtMs] of batch) this.pending.set(grantId, Math.max(this.pending.get(grantId) ?? usedAtMs, usedAtMs));
    }
  }
}
