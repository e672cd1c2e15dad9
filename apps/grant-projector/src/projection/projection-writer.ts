import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

import type { RevokeReason } from '#grant-domain/revoke-reason.js';
import { GrantEventStore } from '#persistence/grant-event-store.js';

import { applyToGrantRow, type GrantRow, type ProjectableGrantEvent } from './grant-row.js';

/** Result of one `ProjectionWriter.apply` call, counted in events. */
export interface ProjectionOutcome {
  /** Events of the input applied to their rows. */
  applied: number;
  /** Events of the input skipped because their row already reflects their version. */
  duplicates: number;
  /** Events read from the event store to close a gap before a later version. */
  gapFilled: number;
}

/** The event store lacks versions that an event needs before it can be applied. */
export class ProjectionGapError extends Error {
  override readonly name = 'ProjectionGapError';

  constructor(
    readonly grantId: string,
    readonly fromVersion: number,
    readonly toVersion: number,
  ) {
    super(
      `grant ${grantId} is missing versions ${fromVersion} to ${toVersion} in the event store, ` +
        `so version ${toVersion + 1} cannot be applied; the event store and the topic disagree`,
    );
  }
}

interface GrantRowRecord {
  grant_id: string;
  user_id: string;
  client_id: string;
  scopes: string[];
  status: 'active' | 'revoked';
  created_at: Date;
  updated_at: Date;
  revoked_at: Date | null;
  revoke_reason: RevokeReason | null;
  version: number;
  position: string;
}

/**
 * Applies recorded grant events to the `grants` table, idempotently by stream version: each row
 * stores the version of the last event applied to it, and the row and that marker change in one
 * transaction. Used by the Kafka consumer and by replays from the event store.
 */
@Injectable()
export class ProjectionWriter {
  constructor(
    private readonly dataSource: DataSource,
    private readonly eventStore: GrantEventStore,
  ) {}

  /**
   * Applies `events` in one transaction, in version order per grant. An event at or below its
   * row's version is a duplicate and skipped. Before an event beyond the next version, the missing
   * versions are read from the event store and applied. When the store lacks them too, this raises
   * ProjectionGapError and writes nothing.
   */
  async apply(events: readonly ProjectableGrantEvent[]): Promise<ProjectionOutcome> {
    const outcome: ProjectionOutcome = { applied: 0, duplicates: 0, gapFilled: 0 };
    if (events.length === 0) return outcome;
    const streams = groupByGrant(events);

    return this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const rows = await lockRows(manager, [...streams.keys()]);
      const changed: GrantRow[] = [];

      for (const [grantId, stream] of streams) {
        const stored = rows.get(grantId);
        let row = stored;
        for (const recorded of stream) {
          const version = row?.version ?? 0;
          if (recorded.version <= version) {
            outcome.duplicates += 1;
            continue;
          }
          if (recorded.version > version + 1) {
            for (const missing of await this.readMissingVersions(grantId, version + 1, recorded.version - 1)) {
              row = applyToGrantRow(row, missing);
              outcome.gapFilled += 1;
            }
          }
          row = applyToGrantRow(row, recorded);
          outcome.applied += 1;
        }
        if (row !== undefined && row !== stored) changed.push(row);
      }

      await upsertRows(manager, changed);
      return outcome;
    });
  }

  private async readMissingVersions(grantId: string, fromVersion: number, toVersion: number): Promise<ProjectableGrantEvent[]> {
    const missing = await this.eventStore.readVersions(grantId, fromVersion, toVersion);
    const complete = missing.length === toVersion - fromVersion + 1 && missing.every((event, index) => event.version === fromVersion + index);
    if (!complete) throw new ProjectionGapError(grantId, fromVersion, toVersion);
    return missing;
  }
}

/** Groups events by grant, each group sorted by version. The sort is stable, so duplicates keep their order. */
function groupByGrant(events: readonly ProjectableGrantEvent[]): Map<string, ProjectableGrantEvent[]> {
  const streams = new Map<string, ProjectableGrantEvent[]>();
  for (const event of events) {
    const stream = streams.get(event.grantId);
    if (stream === undefined) streams.set(event.grantId, [event]);
    else stream.push(event);
  }
  for (const stream of streams.values()) stream.sort((left, right) => left.version - right.version);
  return streams;
}

/**
 * Reads and locks the existing rows of `grantIds`. Locking in grant id order keeps two writers
 * that share grants, such as two consumers during a rebalance, from deadlocking.
 */
async function lockRows(manager: EntityManager, grantIds: string[]): Promise<Map<string, GrantRow>> {
  const records: GrantRowRecord[] = await manager.query(
    `SELECT grant_id, user_id, client_id, scopes, status, created_at, updated_at, revoked_at, revoke_reason, version,
            position::text AS position
       FROM grants
      WHERE grant_id = ANY($1::uuid[])
      ORDER BY grant_id
        FOR UPDATE`,
    [grantIds],
  );
  return new Map(records.map((record) => [record.grant_id, toGrantRow(record)]));
}

function toGrantRow(record: GrantRowRecord): GrantRow {
  return {
    grantId: record.grant_id,
    userId: record.user_id,
    clientId: record.client_id,
    scopes: record.scopes,
    status: record.status,
    createdAt: record.created_at.toISOString(),
    updatedAt: record.updated_at.toISOString(),
    revokedAt: record.revoked_at?.toISOString() ?? null,
    revokeReason: record.revoke_reason,
    version: record.version,
    position: BigInt(record.position),
  };
}

/**
 * Writes `rows` in one statement: the rows travel as one JSON array that jsonb_to_recordset
 * turns into a table, JSON arrays included. A row only replaces one with a lower version, so a
 * concurrent writer that got there first with a later version wins.
 */
async function upsertRows(manager: EntityManager, rows: readonly GrantRow[]): Promise<void> {
  if (rows.length === 0) return;
  const records = rows.map((row) => ({
    grant_id: row.grantId,
    user_id: row.userId,
    client_id: row.clientId,
    scopes: row.scopes,
    status: row.status,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
    revoked_at: row.revokedAt,
    revoke_reason: row.revokeReason,
    version: row.version,
    position: row.position.toString(),
  }));
  await manager.query(
    `INSERT INTO grants (grant_id, user_id, client_id, scopes, status, created_at, updated_at, revoked_at, revoke_reason, version, position)
     SELECT grant_id, user_id, client_id, scopes, status, created_at, updated_at, revoked_at, revoke_reason, version, position
       FROM jsonb_to_recordset($1::jsonb) AS incoming(
              grant_id uuid, user_id text, client_id text, scopes text[], status text, created_at timestamptz,
              updated_at timestamptz, revoked_at timestamptz, revoke_reason text, version integer, position bigint)
     ON CONFLICT (grant_id) DO UPDATE
        SET scopes = EXCLUDED.scopes,
            status = EXCLUDED.status,
            updated_at = EXCLUDED.updated_at,
            revoked_at = EXCLUDED.revoked_at,
            revoke_reason = EXCLUDED.revoke_reason,
            version = EXCLUDED.version,
            position = EXCLUDED.position
      WHERE grants.version < EXCLUDED.version`,
    [JSON.stringify(records)],
  );
}
