import type { EntityManager } from 'typeorm';

/** The table a rebuild fills before it replaces `grants`. */
export const rebuildTableName = 'grants_rebuild';

/** SQLSTATE lock_not_available, raised when a lock is not granted within lock_timeout. */
export const lockNotAvailable = '55P03';

/**
 * Drops what an earlier, interrupted rebuild left behind and creates `grants_rebuild` empty, with
 * the columns, defaults, constraints and indexes of `grants`. Indexes that back no constraint are
 * dropped again and returned as CREATE INDEX statements for finishBulkLoad, because building an
 * index once over the copied rows costs less than updating it on every insert.
 */
export async function createRebuildTable(manager: EntityManager): Promise<string[]> {
  await manager.query(`DROP TABLE IF EXISTS ${rebuildTableName}`);
  await manager.query(`CREATE TABLE ${rebuildTableName} (LIKE grants INCLUDING ALL)`);
  const deferred: Array<{ name: string; definition: string }> = await manager.query(
    `SELECT quote_ident(c.relname) AS name, pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = to_regclass('${rebuildTableName}')
        AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = i.indexrelid)`,
  );
  for (const { name } of deferred) await manager.query(`DROP INDEX ${name}`);
  return deferred.map(({ definition }) => definition);
}

/** Builds the indexes that createRebuildTable deferred, then collects planner statistics for the swap. */
export async function finishBulkLoad(manager: EntityManager, deferredIndexes: readonly string[]): Promise<void> {
  for (const statement of deferredIndexes) await manager.query(statement);
  await manager.query(`ANALYZE ${rebuildTableName}`);
}

export async function dropRebuildTable(manager: EntityManager): Promise<void> {
  await manager.query(`DROP TABLE IF EXISTS ${rebuildTableName}`);
}

/**
 * Locks `grants` in ACCESS EXCLUSIVE mode for the rest of the transaction, waiting at most
 * `lockTimeoutMs`. While the lock request waits, later readers of `grants` queue behind it, so the
 * timeout also bounds how long the swap can stall them. Raises a driver error with code 55P03 when
 * the lock is not granted in time.
 */
export async function lockProjectionTable(manager: EntityManager, lockTimeoutMs: number): Promise<void> {
  // SET takes no bind parameters, so the value goes into the statement after this check.
  if (!Number.isSafeInteger(lockTimeoutMs) || lockTimeoutMs < 1) throw new TypeError(`lockTimeoutMs must be a positive integer, not ${lockTimeoutMs}`);
  await manager.query(`SET LOCAL lock_timeout = ${lockTimeoutMs}`);
  await manager.query('LOCK TABLE grants IN ACCESS EXCLUSIVE MODE');
}

/**
 * Replaces `grants` with `grants_rebuild` inside the caller's transaction, which holds the lock of
 * lockProjectionTable. The indexes and the primary key get the names they had on `grants`, and
 * the privileges granted on `grants` are granted on the new table.
 *
 * A statement that waits for the lock looks the name `grants` up again once it gets the lock, so it
 * runs on the new table. The rebuild test checks this with a live projector statement that waits
 * through the swap.
 */
export async function replaceProjectionTable(manager: EntityManager): Promise<void> {
  // NOTE: triggers, row-level security policies, storage parameters and publication membership of
  // `grants` are not carried over, and a view or foreign key that depends on `grants` makes the DROP
  // fail. The schema has none of them today.
  const indexRenames = await matchIndexes(manager);
  for (const statement of await ownershipAndPrivilegeStatements(manager)) await manager.query(statement);

  await manager.query('DROP TABLE grants');
  await manager.query(`ALTER TABLE ${rebuildTableName} RENAME TO grants`);
  // Renaming the index of the primary key renames the constraint as well.
  for (const { from, to } of indexRenames) await manager.query(`ALTER INDEX ${from} RENAME TO ${to}`);
}

interface IndexShape {
  table: string;
  /** The name, quoted for SQL where needed. */
  name: string;
  /** The index definition without its name and table, such as `CREATE INDEX ON USING btree (user_id, grant_id)`. */
  shape: string;
}

/** Pairs each index of `grants` with the index of `grants_rebuild` that has the same definition. */
async function matchIndexes(manager: EntityManager): Promise<Array<{ from: string; to: string }>> {
  const indexes: IndexShape[] = await manager.query(
    `SELECT t.relname AS table, quote_ident(c.relname) AS name,
            regexp_replace(pg_get_indexdef(i.indexrelid), '^CREATE (UNIQUE )?INDEX \\S+ ON \\S+ ', 'CREATE \\1INDEX ON ') AS shape
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_class t ON t.oid = i.indrelid
      WHERE i.indrelid IN (to_regclass('grants'), to_regclass('${rebuildTableName}'))
      ORDER BY c.relname`,
  );
  const unmatched = indexes.filter((index) => index.table === rebuildTableName);
  const renames: Array<{ from: string; to: string }> = [];
  for (const original of indexes.filter((index) => index.table === 'grants')) {
    const match = unmatched.findIndex((candidate) => candidate.shape === original.shape);
    if (match < 0) {
      throw new Error(
        `index ${original.name} of grants has no counterpart on ${rebuildTableName} (${original.shape}). ` +
          'An index was probably added to grants during the rebuild, so run the rebuild again.',
      );
    }
    const [rebuilt] = unmatched.splice(match, 1);
    renames.push({ from: rebuilt.name, to: original.name });
  }
  return renames;
}

/**
 * Returns the statements that give `grants_rebuild` the owner of `grants` and the privileges other
 * roles hold on it, which CREATE TABLE … LIKE does not copy.
 */
async function ownershipAndPrivilegeStatements(manager: EntityManager): Promise<string[]> {
  const [table]: Array<{ owner: string; ownedByCurrentUser: boolean }> = await manager.query(
    `SELECT quote_ident(pg_get_userbyid(relowner)) AS owner, relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) AS "ownedByCurrentUser"
       FROM pg_class WHERE oid = to_regclass('grants')`,
  );
  const privileges: Array<{ privilege: string; grantee: string; grantable: boolean }> = await manager.query(
    `SELECT acl.privilege_type AS privilege, acl.is_grantable AS grantable,
            CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(role.rolname) END AS grantee
       FROM pg_class c
      CROSS JOIN LATERAL aclexplode(c.relacl) AS acl
       LEFT JOIN pg_roles role ON role.oid = acl.grantee
      WHERE c.oid = to_regclass('grants') AND acl.grantee <> c.relowner`,
  );
  return [
    ...(table.ownedByCurrentUser ? [] : [`ALTER TABLE ${rebuildTableName} OWNER TO ${table.owner}`]),
    ...privileges.map(
      ({ privilege, grantee, grantable }) => `GRANT ${privilege} ON ${rebuildTableName} TO ${grantee}${grantable ? ' WITH GRANT OPTION' : ''}`,
    ),
  ];
}
