import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

import type { GrantEvent } from '#grant-domain/grant.events.js';
import type { GrantEventMetadata, RecordedGrantEvent } from '#grant-events/grant-event-message.js';

/** Whose grants to list as of `time`. At least one of `userId` and `clientId` is set. */
export interface GrantsActiveAtFilter {
  /** An RFC 3339 instant that PostgreSQL parses as timestamptz. */
  time: string;
  userId?: string;
  clientId?: string;
  /** Only grants whose id sorts after this one. */
  afterGrantId?: string;
  limit: number;
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
}

/**
 * Reads the event store as of an instant. An event's instant is its `occurredAt`, the time its
 * command was decided, which is also what the projection shows as created_at and revoked_at.
 * Both reads of a page run in one REPEATABLE READ transaction, so an append between them cannot
 * make a listed grant look revoked.
 */
@Injectable()
export class GrantsActiveAtReader {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Returns, in grant id order, the grants of the filter that were created at or before `time` and
   * not revoked at or before it, each with its events that occurred at or before `time`.
   */
  async readPage(filter: GrantsActiveAtFilter): Promise<Array<{ grantId: string; events: RecordedGrantEvent[] }>> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const grantIds = await this.activeGrantIds(manager, filter);
      if (grantIds.length === 0) return [];
      const events = await this.eventsUpTo(manager, grantIds, filter.time);
      return grantIds.map((grantId) => ({ grantId, events: events.get(grantId) ?? [] }));
    });
  }

  /**
   * Selects the ids of the grants active at `time`, through the partial index of GrantCreated
   * events by user or by client and grant id, and the (grant_id, version) index for revocations.
   */
  private async activeGrantIds(manager: EntityManager, filter: GrantsActiveAtFilter): Promise<string[]> {
    const parameters: unknown[] = [filter.time];
    const conditions = [`created.type = 'GrantCreated'`, `(created.data->>'occurredAt')::timestamptz <= $1::timestamptz`];
    const addCondition = (expression: string, value: unknown) => {
      parameters.push(value);
      conditions.push(`${expression} $${parameters.length}`);
    };
    if (filter.userId !== undefined) addCondition(`created.data->>'userId' =`, filter.userId);
    if (filter.clientId !== undefined) addCondition(`created.data->>'clientId' =`, filter.clientId);
    if (filter.afterGrantId !== undefined) addCondition('created.grant_id >', filter.afterGrantId);
    if (filter.userId === undefined && filter.clientId === undefined) throw new TypeError('readPage needs a userId or a clientId filter');
    parameters.push(filter.limit);

    const rows: Array<{ grant_id: string }> = await manager.query(
      `SELECT created.grant_id
         FROM grant_events created
        WHERE ${conditions.join(' AND ')}
          AND NOT EXISTS (
                SELECT 1 FROM grant_events revoked
                 WHERE revoked.grant_id = created.grant_id
                   AND revoked.type = 'GrantRevoked'
                   AND (revoked.data->>'occurredAt')::timestamptz <= $1::timestamptz)
        ORDER BY created.grant_id
        LIMIT $${parameters.length}`,
      parameters,
    );
    return rows.map((row) => row.grant_id);
  }

  private async eventsUpTo(manager: EntityManager, grantIds: string[], time: string): Promise<Map<string, RecordedGrantEvent[]>> {
    const rows: EventRow[] = await manager.query(
      `SELECT position::text AS position, event_id, grant_id, version, type, data, metadata, recorded_at
         FROM grant_events
        WHERE grant_id = ANY($1::uuid[]) AND (data->>'occurredAt')::timestamptz <= $2::timestamptz
        ORDER BY grant_id, version`,
      [grantIds, time],
    );
    const byGrant = new Map<string, RecordedGrantEvent[]>();
    for (const row of rows) {
      const recorded: RecordedGrantEvent = {
        position: BigInt(row.position),
        eventId: row.event_id,
        grantId: row.grant_id,
        version: row.version,
        event: { type: row.type, data: row.data } as GrantEvent,
        metadata: row.metadata,
        recordedAt: row.recorded_at,
      };
      const events = byGrant.get(row.grant_id);
      if (events === undefined) byGrant.set(row.grant_id, [recorded]);
      else events.push(recorded);
    }
    return byGrant;
  }
}
