import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/** A grant as the projector wrote it to the `grants` table, with its last recorded use. */
export interface ProjectedGrant {
  grantId: string;
  userId: string;
  clientId: string;
  scopes: string[];
  status: 'active' | 'revoked';
  createdAt: Date;
  /** Stream version of the last event applied to this row. */
  version: number;
  /** Global event-store position of the last event applied to this row. */
  position: bigint;
  lastUsedAt: Date | null;
}

/** An active grant as the initial load reads it: times in epoch milliseconds, scopes space-separated. */
export interface ActiveGrantRow {
  grant_id: string;
  user_id: string;
  client_id: string;
  scopes: string;
  created_at_ms: number;
  version: number;
  position: string;
  last_used_at_ms: number | null;
}

interface GrantRow {
  grant_id: string;
  user_id: string;
  client_id: string;
  scopes: string[];
  status: 'active' | 'revoked';
  created_at: Date;
  version: number;
  position: string;
  last_used_at: Date | null;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const pollIntervalMs = 25;

/**
 * Reads of the `grants` projection, the authority on whether a grant is active. Refresh and
 * introspection read the in-memory ActiveGrants instead, which falls back to `find` for a grant
 * it does not know; offline-token issuance reads here, because it waits for `min_position`.
 */
@Injectable()
export class GrantProjection {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async find(grantId: string): Promise<ProjectedGrant | undefined> {
    if (!uuidPattern.test(grantId)) return undefined;
    const rows: GrantRow[] = await this.dataSource.query(
      `SELECT g.grant_id, g.user_id, g.client_id, g.scopes, g.status, g.created_at, g.version, g.position, u.last_used_at
         FROM grants g
         LEFT JOIN grant_last_used u ON u.grant_id = g.grant_id
        WHERE g.grant_id = $1`,
      [grantId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      grantId: row.grant_id,
      userId: row.user_id,
      clientId: row.client_id,
      scopes: row.scopes,
      status: row.status,
      createdAt: row.created_at,
      version: row.version,
      position: BigInt(row.position),
      lastUsedAt: row.last_used_at,
    };
  }

  /**
   * Reads up to `limit` active grants with ids after `afterGrantId` (all from the start when
   * null), in grant-id order: keyset paging over the primary key, so each page costs the same.
   * Times come as epoch milliseconds and scopes as one string, which parse faster than
   * timestamps and arrays when a million rows are read at start.
   */
  async activePage(afterGrantId: string | null, limit: number): Promise<ActiveGrantRow[]> {
    const after = afterGrantId === null ? '' : 'AND g.grant_id > $2';
    return this.dataSource.query(
      `SELECT g.grant_id, g.user_id, g.client_id, array_to_string(g.scopes, ' ') AS scopes,
              (extract(epoch FROM g.created_at) * 1000)::float8 AS created_at_ms, g.version, g.position,
              (extract(epoch FROM u.last_used_at) * 1000)::float8 AS last_used_at_ms
         FROM grants g
         LEFT JOIN grant_last_used u ON u.grant_id = g.grant_id
        WHERE g.status = 'active' ${after}
        ORDER BY g.grant_id
        LIMIT $1`,
      afterGrantId === null ? [limit] : [limit, afterGrantId],
    );
  }

  /** Reads the stored last use of a grant, which other instances may have moved. */
  async lastUsedAt(grantId: string): Promise<Date | null> {
    const rows: Array<{ last_used_at: Date }> = await this.dataSource.query('SELECT last_used_at FROM grant_last_used WHERE grant_id = $1', [
      grantId,
    ]);
    return rows[0]?.last_used_at ?? null;
  }

  /**
   * Waits until the projection row of `grantId` reflects every event of that grant up to
   * `minPosition`, for at most `timeoutMs`. Returns false on timeout. A grant with no event at or
   * below `minPosition` needs no wait.
   */
  async waitForPosition(grantId: string, minPosition: bigint, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await this.hasReached(grantId, minPosition)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
    }
  }

  private async hasReached(grantId: string, minPosition: bigint): Promise<boolean> {
    const [row]: Array<{ needed: string | null; applied: string | null }> = await this.dataSource.query(
      `SELECT (SELECT max(position) FROM grant_events WHERE grant_id = $1 AND position <= $2) AS needed,
              (SELECT position FROM grants WHERE grant_id = $1) AS applied`,
      [grantId, minPosition.toString()],
    );
    if (row.needed === null) return true;
    return row.applied !== null && BigInt(row.applied) >= BigInt(row.needed);
  }
}
