import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { RevokeReason } from '#grant-domain/revoke-reason.js';

import type { GrantView } from './grant-view.js';

interface GrantRow {
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
  /** bigint, which pg returns as text. */
  position: string;
}

/** Filter of a keyset-paged listing by user, by client or by both. At least one of the two is set. */
export interface GrantListFilter {
  userId?: string;
  clientId?: string;
  status?: 'active' | 'revoked';
  /** Only grants whose id sorts after this one. */
  afterGrantId?: string;
  limit: number;
}

const grantColumns =
  'grant_id, user_id, client_id, scopes, status, created_at, updated_at, revoked_at, revoke_reason, version, position';

function toGrantView(row: GrantRow): GrantView {
  return {
    grantId: row.grant_id,
    userId: row.user_id,
    clientId: row.client_id,
    scopes: row.scopes,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    revokedAt: row.revoked_at?.toISOString() ?? null,
    revokeReason: row.revoke_reason,
    version: row.version,
    position: BigInt(row.position),
  };
}

/**
 * Reads of the `grants` projection, which the grant projector maintains from the published
 * events. Rows may lag behind the event store, and `latestPositionAtOrBefore` returns the
 * position a row must reach to be current.
 */
@Injectable()
export class GrantProjectionReader {
  constructor(private readonly dataSource: DataSource) {}

  async findGrant(grantId: string): Promise<GrantView | undefined> {
    const rows: GrantRow[] = await this.dataSource.query(`SELECT ${grantColumns} FROM grants WHERE grant_id = $1`, [grantId]);
    return rows[0] === undefined ? undefined : toGrantView(rows[0]);
  }

  /** Lists grants ordered by grant id, using the (user_id, grant_id) or (client_id, grant_id) index. */
  async listGrants(filter: GrantListFilter): Promise<GrantView[]> {
    const conditions: string[] = [];
    const parameters: unknown[] = [];
    const addCondition = (column: string, operator: string, value: unknown) => {
      parameters.push(value);
      conditions.push(`${column} ${operator} $${parameters.length}`);
    };
    if (filter.userId !== undefined) addCondition('user_id', '=', filter.userId);
    if (filter.clientId !== undefined) addCondition('client_id', '=', filter.clientId);
    if (filter.status !== undefined) addCondition('status', '=', filter.status);
    if (filter.afterGrantId !== undefined) addCondition('grant_id', '>', filter.afterGrantId);
    if (conditions.length === 0) throw new TypeError('listGrants needs a userId or a clientId filter');
    parameters.push(filter.limit);

    const rows: GrantRow[] = await this.dataSource.query(
      `SELECT ${grantColumns} FROM grants WHERE ${conditions.join(' AND ')} ORDER BY grant_id LIMIT $${parameters.length}`,
      parameters,
    );
    return rows.map(toGrantView);
  }

  /**
   * Returns the global position of the grant's latest event at or before `position` in the event
   * store, or undefined when the grant has no such event. The projection row has applied everything up
   * to `position` for this grant once its own position reaches this value.
   */
  async latestPositionAtOrBefore(grantId: string, position: bigint): Promise<bigint | undefined> {
    const rows: Array<{ position: string | null }> = await this.dataSource.query(
      'SELECT max(position)::text AS position FROM grant_events WHERE grant_id = $1 AND position <= $2',
      [grantId, position.toString()],
    );
    const latest = rows[0]?.position;
    return latest === null || latest === undefined ? undefined : BigInt(latest);
  }
}
