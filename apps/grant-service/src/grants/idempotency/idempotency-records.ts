import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * Status code stored while the first request with a key is still running. No HTTP status is 0.
 * A completed record stores the real status.
 */
const inProgressStatus = 0;

/**
 * Age after which an in-progress record counts as abandoned by a crashed instance, so that a
 * retry may run the request again. Running it again is safe because every grant command is a
 * no-op once its effect is recorded.
 */
const abandonedAfterSeconds = 60;

/** The outcome of claiming an idempotency key for one request. */
export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'in_progress'; requestHash: string }
  | { state: 'completed'; requestHash: string; statusCode: number; responseBody: unknown };

interface RecordRow {
  request_hash: string;
  status_code: number;
  response_body: unknown;
}

/**
 * The `idempotency_records` table. A request claims its (caller, key) by inserting the row
 * before it runs, so the primary key lets only one of several concurrent requests run.
 *
 * TODO: records are never deleted, because a retention job (for example 24 hours) is still missing.
 */
@Injectable()
export class IdempotencyRecords {
  constructor(private readonly dataSource: DataSource) {}

  async claim(caller: string, key: string, requestHash: string): Promise<IdempotencyClaim> {
    // A record released between the insert and the select is simply claimed on the next round.
    for (let round = 0; round < 3; round += 1) {
      const inserted: unknown[] = await this.dataSource.query(
        `INSERT INTO idempotency_records (caller, idempotency_key, request_hash, status_code, response_body)
         VALUES ($1, $2, $3, $4, 'null'::jsonb)
         ON CONFLICT (caller, idempotency_key) DO NOTHING
         RETURNING 1`,
        [caller, key, requestHash, inProgressStatus],
      );
      if (inserted.length > 0) return { state: 'claimed' };

      const existing = await this.find(caller, key);
      if (existing === undefined) continue;
      if (existing.status_code !== inProgressStatus) {
        return {
          state: 'completed',
          requestHash: existing.request_hash,
          statusCode: existing.status_code,
          responseBody: existing.response_body,
        };
      }
      if (existing.request_hash === requestHash && (await this.takeOverAbandoned(caller, key))) return { state: 'claimed' };
      return { state: 'in_progress', requestHash: existing.request_hash };
    }
    throw new Error(`idempotency key of caller ${caller} was claimed and released repeatedly; retry the request`);
  }

  /** Stores the response of a claimed request, so that retries with the key replay it. */
  async complete(caller: string, key: string, statusCode: number, responseBody: unknown): Promise<void> {
    await this.dataSource.query(
      `UPDATE idempotency_records SET status_code = $3, response_body = $4::jsonb
        WHERE caller = $1 AND idempotency_key = $2`,
      [caller, key, statusCode, JSON.stringify(responseBody ?? null)],
    );
  }

  /** Frees the key of a claimed request that failed, so that a retry runs it again. */
  async release(caller: string, key: string): Promise<void> {
    await this.dataSource.query(
      'DELETE FROM idempotency_records WHERE caller = $1 AND idempotency_key = $2 AND status_code = $3',
      [caller, key, inProgressStatus],
    );
  }

  private async find(caller: string, key: string): Promise<RecordRow | undefined> {
    const rows: RecordRow[] = await this.dataSource.query(
      'SELECT request_hash, status_code, response_body FROM idempotency_records WHERE caller = $1 AND idempotency_key = $2',
      [caller, key],
    );
    return rows[0];
  }

  /** Claims an in-progress record older than the abandon age. The row lock lets only one request win. */
  private async takeOverAbandoned(caller: string, key: string): Promise<boolean> {
    const updated: unknown[] = await this.dataSource.query(
      `UPDATE idempotency_records SET created_at = now()
        WHERE caller = $1 AND idempotency_key = $2 AND status_code = $3
          AND created_at < now() - make_interval(secs => $4)
        RETURNING 1`,
      [caller, key, inProgressStatus, abandonedAfterSeconds],
    );
    return rowCount(updated) > 0;
  }
}

/** TypeORM returns `[rows, affectedCount]` for UPDATE … RETURNING on PostgreSQL. */
function rowCount(result: unknown[]): number {
  if (result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[1];
  return result.length;
}
