import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';

import { GRANT_SERVICE_CONFIG, type GrantServiceConfig } from '../config/grant-service.config.js';

/** A held job lock; releasing it ends its database session. */
export interface HeldJobLock {
  release(): Promise<void>;
}

/**
 * Lets one instance at a time run a revocation job, with a PostgreSQL session-level advisory lock
 * on a connection of its own. When the instance dies, PostgreSQL ends that session and frees the
 * lock at once, so another instance can resume the job without waiting for a lease to expire.
 */
@Injectable()
export class RevocationJobLock {
  constructor(@Inject(GRANT_SERVICE_CONFIG) private readonly config: GrantServiceConfig) {}

  /** Returns the held lock, or undefined when another session holds it. */
  async tryAcquire(jobId: string): Promise<HeldJobLock | undefined> {
    const client = new pg.Client({
      connectionString: this.config.DATABASE_URL,
      application_name: 'grant-service revocation job',
      connectionTimeoutMillis: 5000,
    });
    // An error on an idle session, such as a server restart, must not crash the process. The
    // session's lock ends with it, and the next query on the session fails where it is handled.
    client.on('error', () => undefined);
    await client.connect();
    try {
      const rows = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [
        `revocation_job:${jobId}`,
      ]);
      if (!rows.rows[0].locked) {
        await client.end();
        return undefined;
      }
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return { release: () => client.end() };
  }
}
