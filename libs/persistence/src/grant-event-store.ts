import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';

import type { GrantEvent } from '#grant-domain/grant.events.js';
import { GrantError } from '#grant-domain/grant-error.js';
import type { GrantEventMetadata, RecordedGrantEvent } from '#grant-events/grant-event-message.js';

/** Position of the relay: the transaction id and position of the last published event. */
export interface RelayCheckpoint {
  transactionId: bigint;
  position: bigint;
}

interface EventRow {
  position: string;
  event_id: string;
  grant_id: string;
  version: number;
  type: GrantEvent['type'];
  data: GrantEvent['data'];
  metadata: GrantEventMetadata;
  recorded_at: Date;
  transaction_id?: string;
}

const eventColumns = 'position, event_id, grant_id, version, type, data, metadata, recorded_at';

/** PostgreSQL unique_violation, raised when two writers claim one stream version or (user, client) pair. */
const uniqueViolation = '23505';

function toRecorded(row: EventRow): RecordedGrantEvent {
  return {
    position: BigInt(row.position),
    eventId: row.event_id,
    grantId: row.grant_id,
    version: row.version,
    event: { type: row.type, data: row.data } as GrantEvent,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
  };
}

/**
 * The append-only `grant_events` table. Appends check the expected stream version and keep the
 * one-active-grant-per-(user, client) rows in the same transaction.
 */
export class GrantEventStore {
  constructor(private readonly dataSource: DataSource) {}

  /** Reads a grant's whole stream; version 0 means no event exists. */
  async readStream(grantId: string): Promise<{ version: number; events: RecordedGrantEvent[] }> {
    const rows: EventRow[] = await this.dataSource.query(
      `SELECT ${eventColumns} FROM grant_events WHERE grant_id = $1 ORDER BY version`,
      [grantId],
    );
    const events = rows.map(toRecorded);
    return { version: events.at(-1)?.version ?? 0, events };
  }

  /** Finds the active grant of a (user, client) pair. */
  async findActiveGrantId(userId: string, clientId: string): Promise<string | undefined> {
    const rows: Array<{ grant_id: string }> = await this.dataSource.query(
      'SELECT grant_id FROM active_grant_pairs WHERE user_id = $1 AND client_id = $2',
      [userId, clientId],
    );
    return rows[0]?.grant_id;
  }

  /**
   * Appends `events` after `expectedVersion` in one transaction. `GrantCreated` claims the
   * (user, client) pair and `GrantRevoked` releases it. Raises `grant.concurrency_conflict` when
   * another writer took the version or the pair first; the caller reloads and decides again.
   */
  async append(
    grantId: string,
    expectedVersion: number,
    events: readonly GrantEvent[],
    metadata: GrantEventMetadata,
    recordedAt: Date,
  ): Promise<RecordedGrantEvent[]> {
    if (events.length === 0) return [];
    try {
      return await this.dataSource.transaction('READ COMMITTED', async (manager) => {
        const recorded: RecordedGrantEvent[] = [];
        for (const [index, event] of events.entries()) {
          await this.maintainActivePair(manager, event);
          const rows: EventRow[] = await manager.query(
            `INSERT INTO grant_events (event_id, grant_id, version, type, data, metadata, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             RETURNING ${eventColumns}`,
            [randomUUID(), grantId, expectedVersion + index + 1, event.type, event.data, metadata, recordedAt],
          );
          recorded.push(toRecorded(rows[0]));
        }
        return recorded;
      });
    } catch (error) {
      if ((error as { code?: string }).code === uniqueViolation) {
        throw new GrantError(
          'grant.concurrency_conflict',
          `grant ${grantId} was changed by another request at the same time; retry the request`,
          'grant_id',
        );
      }
      throw error;
    }
  }

  /**
   * Events committed after `checkpoint`, in (transaction id, position) order, limited to
   * transactions older than every one still running. A transaction that took a lower position but
   * commits later is therefore read before anything newer, instead of being skipped.
   *
   * NOTE: the snapshot's xmin covers the whole PostgreSQL server, so a long-running write transaction
   * in any database on it delays publication until it ends. Read-only transactions take no
   * transaction id and do not count. Keep the event store on a server without long write batches.
   */
  async readCommittedAfter(checkpoint: RelayCheckpoint, limit: number): Promise<Array<RecordedGrantEvent & { transactionId: bigint }>> {
    // ORDER BY names the table's columns: a bare name would pick the text output column of the same
    // name and sort transaction ids as text ('1000' before '999'), without the index.
    const rows: EventRow[] = await this.dataSource.query(
      `SELECT ${eventColumns}, transaction_id::text AS transaction_id
         FROM grant_events
        WHERE (transaction_id, position) > ($1::text::xid8, $2::bigint)
          AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY grant_events.transaction_id, grant_events.position
        LIMIT $3`,
      [checkpoint.transactionId.toString(), checkpoint.position.toString(), limit],
    );
    return rows.map((row) => ({ ...toRecorded(row), transactionId: BigInt(row.transaction_id!) }));
  }

  /** Reads a grant's events with versions in [fromVersion, toVersion], oldest first. */
  async readVersions(grantId: string, fromVersion: number, toVersion: number): Promise<RecordedGrantEvent[]> {
    const rows: EventRow[] = await this.dataSource.query(
      `SELECT ${eventColumns} FROM grant_events WHERE grant_id = $1 AND version BETWEEN $2 AND $3 ORDER BY version`,
      [grantId, fromVersion, toVersion],
    );
    return rows.map(toRecorded);
  }

  /** Events by global position, for replays: keyset paging from `afterPosition`. */
  async readAllAfter(afterPosition: bigint, limit: number): Promise<RecordedGrantEvent[]> {
    const rows: EventRow[] = await this.dataSource.query(
      `SELECT ${eventColumns} FROM grant_events WHERE position > $1 ORDER BY position LIMIT $2`,
      [afterPosition.toString(), limit],
    );
    return rows.map(toRecorded);
  }

  private async maintainActivePair(manager: EntityManager, event: GrantEvent): Promise<void> {
    if (event.type === 'GrantCreated') {
      await manager.query('INSERT INTO active_grant_pairs (user_id, client_id, grant_id) VALUES ($1, $2, $3)', [
        event.data.userId,
        event.data.clientId,
        event.data.grantId,
      ]);
    } else if (event.type === 'GrantRevoked') {
      await manager.query('DELETE FROM active_grant_pairs WHERE grant_id = $1', [event.data.grantId]);
    }
  }
}
