import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import type { RevocationFilter } from './revocation-filter.js';

/**
 * Finds the active grants a bulk revocation ends. It reads the event store's active_grant_pairs
 * table, not the projection, so that a grant created a moment ago is found even before the
 * projector has applied it. Scope and creation time come from the grant's own events.
 */
@Injectable()
export class RevocationCandidates {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async count(filter: RevocationFilter): Promise<number> {
    const { where, parameters } = whereClause(filter);
    const rows: Array<{ count: number }> = await this.dataSource.query(
      `SELECT count(*)::integer AS count FROM active_grant_pairs p WHERE ${where}`,
      parameters,
    );
    return rows[0].count;
  }

  /** Reads the matching grant ids after `afterGrantId` (keyset paging), in grant id order. */
  async nextBatch(filter: RevocationFilter, afterGrantId: string | null, limit: number): Promise<string[]> {
    const { where, parameters } = whereClause(filter);
    parameters.push(afterGrantId, limit);
    const rows: Array<{ grant_id: string }> = await this.dataSource.query(
      `SELECT p.grant_id FROM active_grant_pairs p
        WHERE ${where} AND ($${parameters.length - 1}::uuid IS NULL OR p.grant_id > $${parameters.length - 1}::uuid)
        ORDER BY p.grant_id
        LIMIT $${parameters.length}`,
      parameters,
    );
    return rows.map((row) => row.grant_id);
  }
}

function whereClause(filter: RevocationFilter): { where: string; parameters: unknown[] } {
  const conditions: string[] = [];
  const parameters: unknown[] = [];
  const parameter = (value: unknown) => {
    parameters.push(value);
    return `$${parameters.length}`;
  };

  if (filter.userId !== undefined) conditions.push(`p.user_id = ${parameter(filter.userId)}`);
  if (filter.clientId !== undefined) conditions.push(`p.client_id = ${parameter(filter.clientId)}`);
  if (filter.scope !== undefined) {
    // An active grant's latest event is its GrantCreated or GrantScopesChanged, and both carry
    // the whole scope set.
    conditions.push(
      `(SELECT e.data->'scopes' FROM grant_events e WHERE e.grant_id = p.grant_id ORDER BY e.version DESC LIMIT 1)
         @> jsonb_build_array(${parameter(filter.scope)}::text)`,
    );
  }
  if (filter.createdBefore !== undefined) {
    conditions.push(
      `(SELECT e.recorded_at FROM grant_events e WHERE e.grant_id = p.grant_id AND e.version = 1) < ${parameter(filter.createdBefore)}`,
    );
  }
  if (conditions.length === 0) throw new TypeError('a revocation filter needs a user id or a client id');
  return { where: conditions.join(' AND '), parameters };
}
