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

/** A row of `grants_rebuild` with its instants as RFC 3339 text in UTC, to the microsecond. */
interface GrantRowRecord {
  grant_id: string;
  user_id: string;
  client_id: string;
  scopes: string[];
  status: 'active' | 'revoked';
  created_at: string;
  updated_at: string;
  revoked_at: string | null;
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

/**
 * Formats a timestamptz column as RFC 3339 text in UTC. Text parses faster than the driver's Date
 * objects and keeps the microseconds, which a Date would drop.
 */
function utcText(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ${column}`;
}

async function readRows(manager: EntityManager, grantIds: string[]): Promise<Map<string, GrantRow>> {
  const records: GrantRowRecord[] = await manager.query(
    `SELECT grant_id, user_id, client_id, scopes, status, ${utcText('created_at')}, ${utcText('updated_at')}, ${utcText('revoked_at')},
            revoke_reason, version, position::text AS position
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
        createdAt: record.created_at,
        updatedAt: record.updated_at,
        revokedAt: record.revoked_at,
        revokeReason: record.revoke_reason,
        version: record.version,
        position: BigInt(record.position),
      },
    ]),
  );
}

/**
 * Writes `rows` in one statement, and a row only replaces one with a lower version. The columns
 * travel as one array parameter each, which unnest turns back into rows. This costs PostgreSQL and
 * Node.js less than one JSON document for all rows. A row's scopes travel as one string joined by
 * spaces, because RFC 6749 scope tokens contain no space.
 */
async function upsertRows(manager: EntityManager, rows: readonly GrantRow[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = {
    grantIds: [] as string[],
    userIds: [] as string[],
    clientIds: [] as string[],
    scopes: [] as string[],
    statuses: [] as string[],
    createdAts: [] as string[],
    updatedAts: [] as string[],
    revokedAts: [] as Array<string | null>,
    revokeReasons: [] as Array<string | null>,
    versions: [] as number[],
    positions: [] as string[],
  };
  for (const row of rows) {
    columns.grantIds.push(row.grantId);
    columns.userIds.push(row.userId);
    columns.clientIds.push(row.clientId);
    columns.scopes.push(joinScopes(row));
    columns.statuses.push(row.status);
    columns.createdAts.push(row.createdAt);
    columns.updatedAts.push(row.updatedAt);
    columns.revokedAts.push(row.revokedAt);
    columns.revokeReasons.push(row.revokeReason);
    columns.versions.push(row.version);
    columns.positions.push(row.position.toString());
  }
  await manager.query(
    `INSERT INTO ${rebuildTableName} AS target
            (grant_id, user_id, client_id, scopes, status, created_at, updated_at, revoked_at, revoke_reason, version, position)
     SELECT grant_id, user_id, client_id, string_to_array(scopes, ' '), status, created_at, updated_at, revoked_at, revoke_reason, version, position
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[],
                   $9::text[], $10::integer[], $11::bigint[])
         AS incoming(grant_id, user_id, client_id, scopes, status, created_at, updated_at, revoked_at, revoke_reason, version, position)
     ON CONFLICT (grant_id) DO UPDATE
        SET scopes = EXCLUDED.scopes,
            status = EXCLUDED.status,
            updated_at = EXCLUDED.updated_at,
            revoked_at = EXCLUDED.revoked_at,
            revoke_reason = EXCLUDED.revoke_reason,
            version = EXCLUDED.version,
            position = EXCLUDED.position
      WHERE target.version < EXCLUDED.version`,
    [
      columns.grantIds,
      columns.userIds,
      columns.clientIds,
      columns.scopes,
      columns.statuses,
      columns.createdAts,
      columns.updatedAts,
      columns.revokedAts,
      columns.revokeReasons,
      columns.versions,
      columns.positions,
    ],
  );
}

function joinScopes(row: GrantRow): string {
  const spaced = row.scopes.find((scope) => scope.includes(' ') || scope === '');
  if (spaced !== undefined) {
    throw new TypeError(`grant ${row.grantId} has the scope "${spaced}", which is not an RFC 6749 scope token, so its event data is invalid`);
  }
  return row.scopes.join(' ');
}
