import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/** One client's active grant as the account page shows it. */
export interface AccountGrant {
  grantId: string;
  clientId: string;
  /** The registered client's name, or its client id when the client is not in the registry. */
  clientName: string;
  scopes: string[];
  createdAt: Date;
  /** Last refresh with an offline token of this grant, as the token service records it; null before the first. */
  lastUsedAt: Date | null;
  /** When the client's offline lifetimes end the grant; null when neither limit is set. */
  expiresAt: Date | null;
}

interface AccountGrantRow {
  grant_id: string;
  client_id: string;
  client_name: string | null;
  scopes: string[];
  created_at: Date;
  last_used_at: Date | null;
  offline_idle_timeout_seconds: number | null;
  offline_max_lifetime_seconds: number | null;
}

/**
 * Reads a user's active grants from the `grants` projection, with the client names from the
 * token service's `oauth_clients` registry and the last use from its `grant_last_used` table.
 */
@Injectable()
export class AccountGrantsReader {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async listActive(userId: string): Promise<AccountGrant[]> {
    const rows: AccountGrantRow[] = await this.dataSource.query(
      `SELECT g.grant_id, g.client_id, c.name AS client_name, g.scopes, g.created_at, u.last_used_at,
              c.offline_idle_timeout_seconds, c.offline_max_lifetime_seconds
         FROM grants g
         LEFT JOIN oauth_clients c ON c.client_id = g.client_id
         LEFT JOIN grant_last_used u ON u.grant_id = g.grant_id
        WHERE g.user_id = $1 AND g.status = 'active'
        ORDER BY lower(coalesce(c.name, g.client_id)), g.client_id`,
      [userId],
    );
    return rows.map((row) => ({
      grantId: row.grant_id,
      clientId: row.client_id,
      clientName: row.client_name ?? row.client_id,
      scopes: row.scopes,
      createdAt: row.created_at,
      lastUsedAt: row.last_used_at,
      expiresAt: grantExpiry(row),
    }));
  }
}

/**
 * Computes the earlier of the two ends the token service enforces: creation plus the client's
 * maximum offline lifetime, and the last use (or creation, before any use) plus its idle timeout.
 */
function grantExpiry(row: AccountGrantRow): Date | null {
  const ends: number[] = [];
  if (row.offline_max_lifetime_seconds !== null) {
    ends.push(row.created_at.getTime() + row.offline_max_lifetime_seconds * 1000);
  }
  if (row.offline_idle_timeout_seconds !== null) {
    ends.push((row.last_used_at ?? row.created_at).getTime() + row.offline_idle_timeout_seconds * 1000);
  }
  return ends.length === 0 ? null : new Date(Math.min(...ends));
}
