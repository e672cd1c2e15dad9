import type { EntityManager } from 'typeorm';

import type { RevokeReason } from '#grant-domain/revoke-reason.js';

import { applyToGrantRow, type GrantRow, type ProjectableGrantEvent } from '../projection/grant-row.js';
import { rebuildTableName } from './rebuild-table.js';

/** Events of one page, counted by what happened to them. */
export interface PageOutcome {
  applied: number;
  /** Events at or below the version their row already had, such as Kafka redeliveries. */
  duplicates: number;
  /** Events read from the event store to fill a gap before a later version. */
  gapFilled: number;
}

/**
 * Returns the events of a grant with versions `fromVersion` to `toVersion`, oldest first, or raises
 * when they cannot be found.
 */
export type GapFiller = (grantId: string, fromVersion: number, toVersion: number) => Promise<ProjectableGrantEvent[]>;

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
 * Applies a page of events to `grants_rebuild` with one read and one write. The events are folded
 * in memory per grant with applyToGrantRow, the fold that the live projector uses. The resulting
 * rows are then written by one multi-row INSERT … ON CONFLICT.
 *
 * Only grants whose first event in the page continues an earlier page have their row read. A grant
 * whose page starts at version 1 is folded from nothing, which gives the same row as continuing a
 * stored one, and the upsert keeps a stored row with a later version.
 */
export async function applyPage(manager: EntityManager, events: readonly ProjectableGrantEvent[], fillGap: GapFiller): Promise<PageOutcome> {
  const outcome: PageOutcome = { applied: 0, duplicates: 0, gapFilled: 0 };
  if (events.length === 0) return outcome;
  const streams = groupByGrant(events);
  const continuing = [...streams].filter(([, stream]) => stream[0].version > 1).map(([grantId]) => grantId);
  const stored = continuing.length === 0 ? new Map<string, GrantRow>() : await readRows(manager, continuing);

  const changed: GrantRow[] = [];
  for (const [grantId, stream] of streams) {
    let row = stored.get(grantId);
    for (const recorded of stream) {
      const version = row?.version ?? 0;
      if (recorded.version <= version) {
        outcome.duplicates += 1;
        continue;
      }
      if (recorded.version > version + 1) {
        for (const missing of await fillGap(grantId, version + 1, recorded.version - 1)) {
          row = applyToGrantRow(row, missing);
          outcome.gapFilled += 1;
        }
      }
      row = applyToGrantRow(row, recorded);
      outcome.applied += 1;
    }
    if (row !== undefined && row !== stored.get(grantId)) changed.push(row);
  }

  await upsertRows(manager, changed);
  return outcome;
}

/** Groups events by grant in first-seen order, each group sorted by version. */
function groupByGrant(events: readonly ProjectableGrantEvent[]): Map<string, ProjectableGrantEvent[]> {
  const streams = new Map<string, ProjectableGrantEvent[]>();
  for (const event of events) {
    const stream = streams.get(event.grantId);
    if (stream === undefined) streams.set(event.grantId, [event]);
    else stream.push(event);
  }
  for (const stream of streams.values()) {
    if (stream.length > 1) stream.sort((left, right) => left.version - right.version);
  }
  return streams;
}

async function readRows(manager: EntityManager, grantIds: string[]): Promise<Map<string, GrantRow>> {
  const records: GrantRowRecord[] = await manager.query(
    `SELECT grant_id, user_id, client_id, scopes, status, created_at, updated_at, revoked_at, revoke_reason, version,
            position::text AS position
       FROM ${rebuildTableName}
      WHERE grant_id = ANY($1::uuid[])`,
    [grantIds],
  );
  return new Map(
    records.map((record) => [
      record.grant_id,
      {
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
      },
    ]),
  );
}

/**
 * Writes `rows` in one statement. The rows travel as one JSON array that jsonb_to_recordset turns
 * into a table, scope arrays included, and a row only replaces one with a lower version.
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
    `INSERT INTO ${rebuildTableName} AS target
            (grant_id, user_id, client_id, scopes, status, created_at, updated_at, revoked_at, revoke_reason, version, position)
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
      WHERE target.version < EXCLUDED.version`,
    [JSON.stringify(records)],
  );
}
