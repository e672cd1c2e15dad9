import type { DataSource, EntityManager } from 'typeorm';

import type { GrantEvent } from '#grant-domain/grant.events.js';

import type { ProjectableGrantEvent } from '../projection/grant-row.js';

/** Position of a replay in the event store: the (transaction id, position) of the last event read. */
export interface StoreCheckpoint {
  transactionId: bigint;
  position: bigint;
}

export const storeStart: StoreCheckpoint = { transactionId: 0n, position: 0n };

/** An event read for a replay, with the transaction that appended it. */
export interface ReplayedGrantEvent extends ProjectableGrantEvent {
  transactionId: bigint;
}

interface ReplayRow {
  position: string;
  event_id: string;
  grant_id: string;
  version: number;
  type: GrantEvent['type'];
  transaction_id: string;
  data_grant_id: string;
  user_id: string;
  client_id: string;
  scopes: string[];
  occurred_at: string;
  /** Set on GrantRevoked only. */
  reason: string | null;
}

/**
 * Reads grant_events for replays in (transaction id, position) order, paging by that key.
 *
 * Paging by position alone, as GrantEventStore.readAllAfter does, loses events, because a
 * transaction that took a lower position but commits after a page with higher positions was read
 * falls behind the cursor. Ordering by transaction id first avoids this. The transaction that appends a version
 * gets its id after it read the previous version as committed, so this order keeps every grant's
 * events in version order.
 *
 * The queries read only the fields of the event data that applyToGrantRow uses, because parsing
 * whole events costs a replay a large share of its time. The actor and the previous scopes stay in
 * the database, so the events returned carry a partial `data`.
 */
export class StoreEventReader {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Reads up to `limit` events after `checkpoint` from transactions older than every transaction
   * still running on the server. No event can later appear before the last one returned, so the
   * checkpoint can move past it.
   */
  async readSettledAfter(checkpoint: StoreCheckpoint, limit: number): Promise<ReplayedGrantEvent[]> {
    return this.read(this.dataSource.manager, checkpoint, limit, 'AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())');
  }

  /**
   * Reads up to `limit` committed events after `checkpoint`, including those of transactions newer
   * than one still running. Used under the swap lock, where every committed event must be in the new
   * table. A transaction still running then may later commit events that sort before these, and the
   * live projector applies those from Kafka.
   */
  async readCommittedAfter(manager: EntityManager, checkpoint: StoreCheckpoint, limit: number): Promise<ReplayedGrantEvent[]> {
    return this.read(manager, checkpoint, limit, '');
  }

  private async read(manager: EntityManager, checkpoint: StoreCheckpoint, limit: number, horizon: string): Promise<ReplayedGrantEvent[]> {
    // ORDER BY names the table's columns, because a bare `position` or `transaction_id` would sort by
    // the text output columns of the same names, in text order, and without the index.
    const rows: ReplayRow[] = await manager.query(
      `SELECT position::text AS position, event_id, grant_id, version, type, transaction_id::text AS transaction_id,
              data->>'grantId' AS data_grant_id, data->>'userId' AS user_id, data->>'clientId' AS client_id,
              data->'scopes' AS scopes, data->>'occurredAt' AS occurred_at, data->>'reason' AS reason
         FROM grant_events
        WHERE (transaction_id, position) > ($1::text::xid8, $2::bigint) ${horizon}
        ORDER BY grant_events.transaction_id, grant_events.position
        LIMIT $3`,
      [checkpoint.transactionId.toString(), checkpoint.position.toString(), limit],
    );
    return rows.map((row) => {
      const data = { grantId: row.data_grant_id, userId: row.user_id, clientId: row.client_id, scopes: row.scopes, occurredAt: row.occurred_at };
      return {
        eventId: row.event_id,
        grantId: row.grant_id,
        version: row.version,
        position: BigInt(row.position),
        event: { type: row.type, data: row.reason === null ? data : { ...data, reason: row.reason } } as GrantEvent,
        transactionId: BigInt(row.transaction_id),
      };
    });
  }
}

/** Returns the checkpoint after the last event of `events`, or `checkpoint` when there is none. */
export function checkpointAfter(checkpoint: StoreCheckpoint, events: readonly ReplayedGrantEvent[]): StoreCheckpoint {
  const last = events.at(-1);
  return last === undefined ? checkpoint : { transactionId: last.transactionId, position: last.position };
}
