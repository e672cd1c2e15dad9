import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';

import type { Clock } from '../common/clock.js';
import { TokenServiceError } from '../common/token-service-error.js';
import { generateClientSecret, hashClientSecret, verifyClientSecret } from './client-secret.js';
import type { NewClient, OAuthClient } from './oauth-client.js';

interface ClientRow {
  client_id: string;
  name: string;
  client_type: OAuthClient['type'];
  secret_hash: string | null;
  allowed_scopes: string[];
  access_token_lifetime_seconds: number;
  offline_idle_timeout_seconds: number | null;
  offline_max_lifetime_seconds: number | null;
  created_at: Date;
}

const clientColumns =
  'client_id, name, client_type, secret_hash, allowed_scopes, access_token_lifetime_seconds, offline_idle_timeout_seconds, offline_max_lifetime_seconds, created_at';

/** PostgreSQL unique_violation. */
const uniqueViolation = '23505';

function toClient(row: ClientRow): OAuthClient {
  return {
    clientId: row.client_id,
    name: row.name,
    type: row.client_type,
    secretHash: row.secret_hash,
    allowedScopes: row.allowed_scopes,
    accessTokenLifetimeSeconds: row.access_token_lifetime_seconds,
    offlineIdleTimeoutSeconds: row.offline_idle_timeout_seconds,
    offlineMaxLifetimeSeconds: row.offline_max_lifetime_seconds,
    createdAt: row.created_at,
  };
}

/** Scopes of the bootstrap client: everything the services need to call each other and administer. */
export const bootstrapClientScopes = [
  'clients:admin',
  'grants:admin',
  'grants:read',
  'grants:write',
  'tokens:introspect',
  'tokens:issue',
];

/** Clients kept by the lookup cache at most; the least recently loaded one is dropped beyond that. */
const maxCachedClients = 10_000;

/**
 * The `oauth_clients` table: registration, lookup and removal of OAuth clients.
 *
 * With a `cacheTtlMs` above 0, `find` keeps each client it loaded for that long, so that the
 * token endpoints read no table per request. Changes made through this registry take effect at
 * once; changes made by another instance or the CLI take effect after at most the TTL.
 */
export class ClientRegistry {
  private readonly cache = new Map<string, { client: OAuthClient; loadedAtMs: number }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly cacheTtlMs = 0,
  ) {}

  /**
   * Registers a client. A confidential client gets a new secret, returned here once and stored
   * only as a scrypt hash. Raises `client.already_exists` when the client id is taken.
   */
  async create(input: NewClient): Promise<{ client: OAuthClient; clientSecret: string | null }> {
    const clientSecret = input.type === 'confidential' ? generateClientSecret() : null;
    const secretHash = clientSecret === null ? null : await hashClientSecret(clientSecret);
    const clientId = input.clientId ?? randomUUID();
    try {
      // The id of a deleted client stays retired: a new client with it would inherit old tokens.
      const rows: ClientRow[] = await this.dataSource.query(
        `INSERT INTO oauth_clients (${clientColumns})
         SELECT $1, $2, $3, $4, $5::text[], $6::integer, $7::integer, $8::integer, $9::timestamptz
          WHERE NOT EXISTS (SELECT 1 FROM deleted_oauth_clients WHERE client_id = $1)
         RETURNING ${clientColumns}`,
        [
          clientId,
          input.name,
          input.type,
          secretHash,
          input.allowedScopes,
          input.accessTokenLifetimeSeconds,
          input.offlineIdleTimeoutSeconds,
          input.offlineMaxLifetimeSeconds,
          this.clock.now(),
        ],
      );
      if (rows.length === 0) {
        throw new TokenServiceError(
          'client.already_exists',
          `client ${clientId} was deleted, and ids of deleted clients are never reused; choose another client_id`,
          'client_id',
        );
      }
      this.cache.delete(clientId);
      return { client: toClient(rows[0]), clientSecret };
    } catch (error) {
      if ((error as { code?: string }).code === uniqueViolation) {
        throw new TokenServiceError('client.already_exists', `client ${clientId} already exists; choose another client_id`, 'client_id');
      }
      throw error;
    }
  }

  async find(clientId: string): Promise<OAuthClient | undefined> {
    const cached = this.cache.get(clientId);
    if (cached && performance.now() - cached.loadedAtMs < this.cacheTtlMs) return cached.client;

    const rows: ClientRow[] = await this.dataSource.query(`SELECT ${clientColumns} FROM oauth_clients WHERE client_id = $1`, [clientId]);
    const client = rows[0] === undefined ? undefined : toClient(rows[0]);
    // An unknown client id is not cached, so a client registered elsewhere is found at once.
    this.cache.delete(clientId);
    if (client && this.cacheTtlMs > 0) {
      this.cache.set(clientId, { client, loadedAtMs: performance.now() });
      if (this.cache.size > maxCachedClients) this.cache.delete(this.cache.keys().next().value!);
    }
    return client;
  }

  async get(clientId: string): Promise<OAuthClient> {
    const client = await this.find(clientId);
    if (!client) throw new TokenServiceError('client.not_found', `client ${clientId} was not found`, 'client_id');
    return client;
  }

  /** Clients ordered by id, `limit` at a time, after `afterClientId` when given (keyset paging). */
  async list(limit: number, afterClientId?: string): Promise<OAuthClient[]> {
    const rows: ClientRow[] = await this.dataSource.query(
      `SELECT ${clientColumns} FROM oauth_clients WHERE client_id > $1 ORDER BY client_id LIMIT $2`,
      [afterClientId ?? '', limit],
    );
    return rows.map(toClient);
  }

  /**
   * Removes a client; it can no longer authenticate, so none of its tokens refresh or introspect.
   * A tombstone keeps its id from being registered again, which would revive its refresh tokens.
   */
  async delete(clientId: string): Promise<void> {
    const rows: Array<{ client_id: string }> = await this.dataSource.query(
      `WITH deleted AS (DELETE FROM oauth_clients WHERE client_id = $1 RETURNING client_id),
            tombstone AS (INSERT INTO deleted_oauth_clients (client_id) SELECT client_id FROM deleted ON CONFLICT DO NOTHING)
       SELECT client_id FROM deleted`,
      [clientId],
    );
    this.cache.delete(clientId);
    if (rows.length === 0) throw new TokenServiceError('client.not_found', `client ${clientId} was not found`, 'client_id');
  }

  /**
   * Creates or updates the bootstrap service client with `secret` and the bootstrap scopes.
   * Nothing is written when the stored row already matches, so restarts keep the existing hash.
   */
  async ensureBootstrapClient(clientId: string, secret: string): Promise<void> {
    const existing = await this.find(clientId);
    if (
      existing &&
      existing.type === 'confidential' &&
      existing.secretHash !== null &&
      existing.allowedScopes.join(' ') === bootstrapClientScopes.join(' ') &&
      (await verifyClientSecret(secret, existing.secretHash))
    ) {
      return;
    }
    await this.dataSource.query(
      `INSERT INTO oauth_clients (${clientColumns})
       VALUES ($1, 'Bootstrap service client', 'confidential', $2, $3, 300, NULL, NULL, $4)
       ON CONFLICT (client_id) DO UPDATE
         SET client_type = 'confidential', secret_hash = EXCLUDED.secret_hash, allowed_scopes = EXCLUDED.allowed_scopes`,
      [clientId, await hashClientSecret(secret), bootstrapClientScopes, this.clock.now()],
    );
    this.cache.delete(clientId);
  }
}
