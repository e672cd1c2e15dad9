import { parseScopes } from '#grant-domain/scope-set.js';

import { TokenServiceError } from '../common/token-service-error.js';

export type ClientType = 'confidential' | 'public';

/** A registered OAuth client (RFC 6749 §2) and its token policy. */
export interface OAuthClient {
  clientId: string;
  name: string;
  type: ClientType;
  /** scrypt hash of the secret (see client-secret.ts); null for a public client. */
  secretHash: string | null;
  /** Scopes the client may request for itself with the client_credentials grant. */
  allowedScopes: string[];
  accessTokenLifetimeSeconds: number;
  /** A grant unused for longer than this stops refreshing; null means no idle limit. */
  offlineIdleTimeoutSeconds: number | null;
  /** A grant older than this stops refreshing; null means no age limit. */
  offlineMaxLifetimeSeconds: number | null;
  createdAt: Date;
}

/** What an administrator supplies to register a client; the rest takes defaults. */
export interface NewClient {
  clientId?: string;
  name: string;
  type: ClientType;
  allowedScopes: string[];
  accessTokenLifetimeSeconds: number;
  offlineIdleTimeoutSeconds: number | null;
  offlineMaxLifetimeSeconds: number | null;
}

export const defaultAccessTokenLifetimeSeconds = 300;
const maxAccessTokenLifetimeSeconds = 86_400;
/** The largest PostgreSQL integer, about 68 years. */
const maxOfflineSeconds = 2_147_483_647;

/** client_id = *VSCHAR (RFC 6749 Appendix A.1), here 1 to 255 visible ASCII characters. */
const clientIdPattern = /^[\x21-\x7e]{1,255}$/;

function invalid(field: string, message: string): TokenServiceError {
  return new TokenServiceError('client.invalid_input', message, field);
}

function parseOptionalSeconds(value: unknown, field: string, max: number): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalid(field, `${field} must be a whole number of seconds from 1 to ${max}, or null for no limit`);
  }
  return value;
}

/**
 * Validates the JSON body of a client registration (snake_case fields) and applies the
 * defaults: a confidential client whose access tokens live 300 s and whose grants never expire.
 */
export function parseNewClient(body: unknown): NewClient {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('body', 'the request body must be a JSON object such as {"name":"Reports","scopes":["reports:read"]}');
  }
  const input = body as Record<string, unknown>;
  const known = new Set([
    'client_id',
    'name',
    'type',
    'scopes',
    'access_token_lifetime_seconds',
    'offline_idle_timeout_seconds',
    'offline_max_lifetime_seconds',
  ]);
  const unknown = Object.keys(input).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    throw invalid(unknown[0], `${unknown[0]} is not a client field; the fields are ${[...known].join(', ')}`);
  }

  if (input.client_id !== undefined && (typeof input.client_id !== 'string' || !clientIdPattern.test(input.client_id))) {
    throw invalid('client_id', 'client_id must be 1 to 255 visible ASCII characters (no spaces), or left out for a generated id');
  }
  if (typeof input.name !== 'string' || input.name.trim().length === 0 || input.name.length > 200 || /[\u0000-\u001f\u007f-\u009f]/.test(input.name)) {
    throw invalid('name', 'name must be 1 to 200 characters without control characters');
  }
  const type = input.type ?? 'confidential';
  if (type !== 'confidential' && type !== 'public') {
    throw invalid('type', 'type must be "confidential" or "public"');
  }

  // A client that only refreshes offline tokens of user grants needs no scopes of its own.
  let allowedScopes: string[] = [];
  if (input.scopes !== undefined && !(Array.isArray(input.scopes) && input.scopes.length === 0)) {
    try {
      allowedScopes = parseScopes(input.scopes, 'scopes');
    } catch (error) {
      throw invalid('scopes', (error as Error).message);
    }
  }

  const lifetime = input.access_token_lifetime_seconds ?? defaultAccessTokenLifetimeSeconds;
  if (typeof lifetime !== 'number' || !Number.isInteger(lifetime) || lifetime < 1 || lifetime > maxAccessTokenLifetimeSeconds) {
    throw invalid(
      'access_token_lifetime_seconds',
      `access_token_lifetime_seconds must be a whole number of seconds from 1 to ${maxAccessTokenLifetimeSeconds}`,
    );
  }

  return {
    clientId: input.client_id as string | undefined,
    name: input.name,
    type,
    allowedScopes,
    accessTokenLifetimeSeconds: lifetime,
    offlineIdleTimeoutSeconds: parseOptionalSeconds(input.offline_idle_timeout_seconds, 'offline_idle_timeout_seconds', maxOfflineSeconds),
    offlineMaxLifetimeSeconds: parseOptionalSeconds(input.offline_max_lifetime_seconds, 'offline_max_lifetime_seconds', maxOfflineSeconds),
  };
}

/** The client as the admin API shows it: never the secret hash. */
export function clientView(client: OAuthClient) {
  return {
    client_id: client.clientId,
    name: client.name,
    type: client.type,
    scopes: client.allowedScopes,
    access_token_lifetime_seconds: client.accessTokenLifetimeSeconds,
    offline_idle_timeout_seconds: client.offlineIdleTimeoutSeconds,
    offline_max_lifetime_seconds: client.offlineMaxLifetimeSeconds,
    created_at: client.createdAt.toISOString(),
  };
}
