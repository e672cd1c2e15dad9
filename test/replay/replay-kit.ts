import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';

import { applyToGrantRow, type GrantRow } from '../../apps/grant-projector/src/projection/grant-row.js';
import { GrantEventStore } from '#persistence/grant-event-store.js';

import type { StoredGrantRow } from '../projector/projector-kit.js';
import { GrantStreams } from '../relay/grant-streams.js';

const rowColumns =
  'grant_id, user_id, client_id, scopes, status, created_at, updated_at, revoked_at, revoke_reason, version, position::text AS position';

/** Reads every row of `grants`, in grant id order. */
export function projectionRows(dataSource: DataSource): Promise<StoredGrantRow[]> {
  return dataSource.query(`SELECT ${rowColumns} FROM grants ORDER BY grant_id`);
}

/** Folds every stream of the event store into its row, in grant id order and in the shape projectionRows returns. */
export async function rowsFoldedFromStore(dataSource: DataSource): Promise<StoredGrantRow[]> {
  const store = new GrantEventStore(dataSource);
  const grantIds: Array<{ grant_id: string }> = await dataSource.query('SELECT DISTINCT grant_id FROM grant_events ORDER BY grant_id');
  const rows: StoredGrantRow[] = [];
  for (const { grant_id: grantId } of grantIds) {
    const { events } = await store.readStream(grantId);
    const row = events.reduce<GrantRow | undefined>((current, recorded) => applyToGrantRow(current, recorded), undefined)!;
    rows.push({
      grant_id: row.grantId,
      user_id: row.userId,
      client_id: row.clientId,
      scopes: row.scopes,
      status: row.status,
      created_at: new Date(row.createdAt),
      updated_at: new Date(row.updatedAt),
      revoked_at: row.revokedAt === null ? null : new Date(row.revokedAt),
      revoke_reason: row.revokeReason,
      version: row.version,
      position: row.position.toString(),
    });
  }
  return rows;
}

/** Reads the indexes, constraints and privileges of `grants`, which a swap must keep. */
export async function projectionTableShape(dataSource: DataSource) {
  const indexes: Array<{ indexname: string; indexdef: string }> = await dataSource.query(
    `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'grants' ORDER BY indexname`,
  );
  const constraints: Array<{ conname: string; definition: string }> = await dataSource.query(
    `SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conrelid = to_regclass('grants') ORDER BY conname`,
  );
  const privileges: Array<{ grantee: string; privilege_type: string }> = await dataSource.query(
    `SELECT grantee, privilege_type FROM information_schema.role_table_grants
      WHERE table_schema = current_schema() AND table_name = 'grants' ORDER BY grantee, privilege_type`,
  );
  return { indexes, constraints, privileges };
}

/** Returns whether a table of this name exists in the current schema. */
export async function tableExists(dataSource: DataSource, name: string): Promise<boolean> {
  const [{ exists }]: Array<{ exists: boolean }> = await dataSource.query('SELECT to_regclass($1) IS NOT NULL AS exists', [name]);
  return exists;
}

/**
 * Appends a mix of histories: grants that stay as created, grants with one to three scope changes,
 * grants revoked at once, and grants revoked after scope changes. Returns the grant ids.
 */
export async function appendGrantMix(dataSource: DataSource, count: number): Promise<string[]> {
  const streams = GrantStreams.over(dataSource);
  const grantIds: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const grantId = randomUUID();
    grantIds.push(grantId);
    await streams.create(grantId, ['offline_access', 'openid']);
    const changes = index % 4;
    for (let change = 1; change <= changes; change += 1) {
      await streams.changeScopes(grantId, ['offline_access', 'openid', `scope-${change}`]);
    }
    if (index % 3 === 0) await streams.revoke(grantId);
  }
  return grantIds;
}

/**
 * Appends a new grant, a scope change of the first grant in `activeGrantIds` and a revocation of the
 * next one, and keeps `activeGrantIds` up to date.
 */
export async function appendSomeChanges(dataSource: DataSource, activeGrantIds: string[]): Promise<void> {
  const streams = GrantStreams.over(dataSource);
  const created = randomUUID();
  await streams.create(created, ['openid']);
  const changed = activeGrantIds.shift();
  if (changed !== undefined) await streams.changeScopes(changed, ['openid', `changed-${randomUUID().slice(0, 8)}`]);
  const revoked = activeGrantIds.shift();
  if (revoked !== undefined) await streams.revoke(revoked);
  activeGrantIds.push(created);
  if (changed !== undefined) activeGrantIds.push(changed);
}

/** Lists the grants that have no GrantRevoked event, in grant id order. */
export async function activeGrantIds(dataSource: DataSource): Promise<string[]> {
  const rows: Array<{ grant_id: string }> = await dataSource.query(
    `SELECT grant_id FROM grant_events GROUP BY grant_id HAVING bool_and(type <> 'GrantRevoked') ORDER BY grant_id`,
  );
  return rows.map((row) => row.grant_id);
}

/** Returns whether every grant of the event store has its row in `grants` at its latest version. */
export async function projectionCaughtUp(dataSource: DataSource): Promise<boolean> {
  const [{ behind }]: Array<{ behind: number }> = await dataSource.query(
    `SELECT count(*)::integer AS behind
       FROM (SELECT grant_id, max(version) AS version FROM grant_events GROUP BY grant_id) latest
       LEFT JOIN grants USING (grant_id)
      WHERE grants.version IS NULL OR grants.version < latest.version`,
  );
  return behind === 0;
}
