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
  /** Global event-store position of the last event applied to this row. */
  position: bigint;
  lastUsedAt: Date | null;
}

interface GrantRow {
  grant_id: string;
  user_id: string;
  client_id: string;
  scopes: string[];
  status: 'active' | 'revoked';
  created_at: Date;
  position: string;
  last_used_at: Date | null;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const pollIntervalMs = 25;

/**
 * Reads of the `grants` projection, the authority on whether a grant is active.
 * NOTE: every refresh reads its grant here, one indexed query. The in-memory active-grant set fed
 * by a consumer group per instance, which the refresh throughput target calls for, is not built yet.
 */
@Injectable()
export class GrantProjection {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async find(grantId: string): Promise<ProjectedGrant | undefined> {
    if (!uuidPattern.test(grantId)) return undefined;
    const rows: GrantRow[] = await this.dataSource.query(
      `SELECT g.grant_id, g.user_id, g.client_id, g.scopes, g.status, g.created_at, g.position, u.last_used_at
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
      position: BigInt(row.position),
      lastUsedAt: row.last_used_at,
    };
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
