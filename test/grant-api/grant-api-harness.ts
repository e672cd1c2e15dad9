// Starts the grant service against a fresh database, with its own JWKS server on 127.0.0.1 and a
// token minter for that JWKS, so that the tests control every access token the API receives.
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

import { loadGrantServiceConfig } from '../../apps/grant-service/src/config/grant-service.config.js';
import { GrantServiceModule } from '../../apps/grant-service/src/grant-service.module.js';
import { startTestApp, testEnvironment } from '#testing/test-apps.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';

export const testIssuer = 'http://127.0.0.1/test-issuer';
export const testAudience = 'offline-grants-api';
export const testCallerId = 'test-service';

export interface TokenOptions {
  scope?: string;
  clientId?: string | null;
  subject?: string;
  issuer?: string;
  audience?: string;
  /** Seconds since the epoch, or null for a token without exp. */
  expiresAt?: number | null;
  typ?: string;
  algorithm?: 'EdDSA' | 'ES256';
  /** Extra or replaced claims. */
  claims?: JWTPayload;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or undefined for an empty one. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read bodies field by field and assert each one
  body: any;
}

export interface RequestOptions {
  /** Sent as JSON with Content-Type: application/json. */
  json?: unknown;
  /** Sent as it is, with the Content-Type set in `headers`. */
  rawBody?: string;
  /** A bearer token, or null to send no Authorization header. The default has grants:write and grants:read. */
  token?: string | null;
  headers?: Record<string, string>;
}

export interface GrantApi {
  url: string;
  app: NestFastifyApplication;
  database: TestDatabase;
  /** A client on the test database, for assertions on the event store and projection fixtures. */
  db: pg.Client;
  token(options?: TokenOptions): Promise<string>;
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
  close(): Promise<void>;
}

interface KeyPairs {
  eddsa: { privateKey: CryptoKey; kid: string };
  es256: { privateKey: CryptoKey; kid: string };
  jwks: { keys: object[] };
}

async function createKeyPairs(): Promise<KeyPairs> {
  const eddsa = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const es256 = await generateKeyPair('ES256');
  const eddsaJwk = { ...(await exportJWK(eddsa.publicKey)), kid: 'test-eddsa', alg: 'EdDSA', use: 'sig' };
  const es256Jwk = { ...(await exportJWK(es256.publicKey)), kid: 'test-es256', alg: 'ES256', use: 'sig' };
  return {
    eddsa: { privateKey: eddsa.privateKey, kid: 'test-eddsa' },
    es256: { privateKey: es256.privateKey, kid: 'test-es256' },
    jwks: { keys: [eddsaJwk, es256Jwk] },
  };
}

async function startJwksServer(jwks: object): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    if (request.url === '/.well-known/jwks.json') {
      response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(jwks));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/.well-known/jwks.json` };
}

export async function startGrantApi(label: string, extraEnvironment: Record<string, string> = {}): Promise<GrantApi> {
  const keys = await createKeyPairs();
  const jwksServer = await startJwksServer(keys.jwks);
  const database = await createTestDatabase(label);
  const environment = testEnvironment(database.url, {
    GRANT_API_JWKS_URL: jwksServer.url,
    GRANT_API_ISSUER: testIssuer,
    GRANT_API_AUDIENCE: testAudience,
    // These suites test the REST API and the event store, and the relay has its own tests.
    RELAY_ENABLED: 'false',
    ...extraEnvironment,
  });
  const { app, url } = await startTestApp('grant-service', GrantServiceModule.forRoot(loadGrantServiceConfig(environment)));
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();

  const token = (options: TokenOptions = {}): Promise<string> => {
    const key = options.algorithm === 'ES256' ? keys.es256 : keys.eddsa;
    const clientId = options.clientId === undefined ? testCallerId : options.clientId;
    const claims: JWTPayload = {
      scope: options.scope ?? 'grants:read grants:write',
      ...(clientId === null ? {} : { client_id: clientId }),
      ...options.claims,
    };
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: options.algorithm ?? 'EdDSA', kid: key.kid, typ: options.typ ?? 'at+jwt' })
      .setIssuer(options.issuer ?? testIssuer)
      .setAudience(options.audience ?? testAudience)
      .setSubject(options.subject ?? 'test-subject')
      .setIssuedAt();
    if (options.expiresAt !== null) jwt.setExpirationTime(options.expiresAt ?? Math.floor(Date.now() / 1000) + 300);
    return jwt.sign(key.privateKey);
  };

  let defaultToken: string | undefined;
  const request = async (method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> => {
    defaultToken ??= await token();
    const headers: Record<string, string> = {};
    const bearer = options.token === undefined ? defaultToken : options.token;
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, options.headers);

    const response = await fetch(`${url}${path}`, {
      method,
      headers,
      body: options.json !== undefined ? JSON.stringify(options.json) : options.rawBody,
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
  };

  const close = async () => {
    await db.end();
    await app.close();
    await new Promise<void>((resolve) => jwksServer.server.close(() => resolve()));
    await database.drop();
  };

  return { url, app, database, db, token, request, close };
}

/** Reads the grant_events rows of a grant, oldest first. */
export async function eventsOf(db: pg.Client, grantId: string) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- event data differs by type; tests assert the fields they read
  const result = await db.query<{ position: string; version: number; type: string; data: any; metadata: any }>(
    'SELECT position::text, version, type, data, metadata FROM grant_events WHERE grant_id = $1 ORDER BY version',
    [grantId],
  );
  return result.rows;
}

/** A fixture row of the `grants` projection, as the grant projector would write it. */
export interface ProjectionFixture {
  grantId: string;
  userId: string;
  clientId: string;
  scopes: string[];
  status?: 'active' | 'revoked';
  createdAt?: Date;
  updatedAt?: Date;
  revokedAt?: Date | null;
  revokeReason?: string | null;
  version?: number;
  position: bigint | string;
}

/** Writes a projection row directly, because these suites do not run the grant projector. */
export async function seedProjection(db: pg.Client, row: ProjectionFixture): Promise<void> {
  const createdAt = row.createdAt ?? new Date('2025-01-01T00:00:00.000Z');
  await db.query(
    `INSERT INTO grants (grant_id, user_id, client_id, scopes, status, created_at, updated_at, revoked_at, revoke_reason, version, position)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (grant_id) DO UPDATE SET scopes = EXCLUDED.scopes, status = EXCLUDED.status, updated_at = EXCLUDED.updated_at,
       revoked_at = EXCLUDED.revoked_at, revoke_reason = EXCLUDED.revoke_reason, version = EXCLUDED.version, position = EXCLUDED.position`,
    [
      row.grantId,
      row.userId,
      row.clientId,
      row.scopes,
      row.status ?? 'active',
      createdAt,
      row.updatedAt ?? createdAt,
      row.revokedAt ?? null,
      row.revokeReason ?? null,
      row.version ?? 1,
      row.position.toString(),
    ],
  );
}
