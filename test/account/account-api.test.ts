import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { DataSource } from 'typeorm';

import { loadGrantServiceConfig } from '../../apps/grant-service/src/config/grant-service.config.js';
import { GrantServiceModule } from '../../apps/grant-service/src/grant-service.module.js';
import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';
import { dataSourceOptions } from '#persistence/data-source-options.js';
import type { StartedHttpApp } from '#platform/start-http-app.js';
import { seedGrants } from '#testing/grant-seeder.js';
import { startTestApp, testEnvironment } from '#testing/test-apps.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';
import { startTestOpenIdIssuer, type TestOpenIdIssuer } from '#testing/test-openid-issuer.js';

import { seedProjection } from '../grant-api/grant-api-harness.js';

const accountClientId = 'account-page';
const accountAudience = 'account-api';

interface Response {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read bodies field by field and assert each one
  body: any;
}

async function call(url: string, method: string, token: string | null, headers: Record<string, string> = {}): Promise<Response> {
  const response = await fetch(url, { method, headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers } });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
}

function expectProblem(response: Response, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body.code).toBe(code);
}

/** Finds a port on 127.0.0.1 with nothing listening, for an issuer that cannot be reached. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('account API', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let db: pg.Client;
  let issuer: TestOpenIdIssuer;
  let service: StartedHttpApp;
  let aliceReader: RecordedGrantEvent;
  let alicePrinter: RecordedGrantEvent;
  let aliceRevoked: RecordedGrantEvent;
  let bobReader: RecordedGrantEvent;

  const createdAt = new Date('2026-03-01T10:00:00.000Z');
  const lastUsedAt = new Date('2026-03-05T08:30:00.000Z');

  beforeAll(async () => {
    database = await createTestDatabase('account_api');
    dataSource = new DataSource(dataSourceOptions({ databaseUrl: database.url, applicationName: 'account-api-test' }));
    await dataSource.initialize();
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    issuer = await startTestOpenIdIssuer({ clientId: accountClientId, audience: accountAudience });

    [aliceReader, alicePrinter, aliceRevoked, bobReader] = await seedGrants(dataSource, [
      { userId: 'alice', clientId: 'news-reader', scopes: ['openid', 'offline_access', 'news:read'], createdAt },
      { userId: 'alice', clientId: 'photo-printer', scopes: ['photos:read'], createdAt },
      { userId: 'alice', clientId: 'old-app', scopes: ['openid'], createdAt },
      { userId: 'bob', clientId: 'news-reader', scopes: ['openid', 'offline_access'], createdAt },
    ]);
    for (const recorded of [aliceReader, alicePrinter, bobReader]) {
      const { data } = recorded.event;
      await seedProjection(db, {
        grantId: recorded.grantId,
        userId: data.userId,
        clientId: data.clientId,
        scopes: 'scopes' in data ? data.scopes : [],
        createdAt,
        position: recorded.position,
      });
    }
    await seedProjection(db, {
      grantId: aliceRevoked.grantId,
      userId: 'alice',
      clientId: 'old-app',
      scopes: ['openid'],
      status: 'revoked',
      createdAt,
      revokedAt: createdAt,
      revokeReason: 'admin',
      position: aliceRevoked.position,
    });

    // The token service's registry names one client and limits its offline lifetimes; the other
    // client is unregistered, so the page shows its id.
    await dataSource.query(
      `INSERT INTO oauth_clients (client_id, name, client_type, secret_hash, allowed_scopes, access_token_lifetime_seconds,
                                  offline_idle_timeout_seconds, offline_max_lifetime_seconds, created_at)
       VALUES ('news-reader', 'News Reader', 'public', NULL, '{}', 300, 86400, 31536000, now())`,
    );
    await dataSource.query('INSERT INTO grant_last_used (grant_id, last_used_at) VALUES ($1, $2)', [aliceReader.grantId, lastUsedAt]);

    const environment = testEnvironment(database.url, {
      ACCOUNT_OIDC_ISSUER: issuer.issuer,
      ACCOUNT_OIDC_CLIENT_ID: accountClientId,
      ACCOUNT_OIDC_AUDIENCE: accountAudience,
      RELAY_ENABLED: 'false',
    });
    service = await startTestApp('grant-service', GrantServiceModule.forRoot(loadGrantServiceConfig(environment)));
  });

  afterAll(async () => {
    await service?.app.close();
    await issuer?.close();
    await db?.end();
    await dataSource?.destroy();
    await database?.drop();
  });

  describe('when the signed-in user lists grants', () => {
    it('returns only their active grants', async () => {
      const response = await call(`${service.url}/v1/account/grants`, 'GET', await issuer.accessToken('alice'));

      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const grantIds = response.body.grants.map((grant: { grant_id: string }) => grant.grant_id);
      expect(grantIds).toHaveLength(2);
      expect(grantIds).toEqual(expect.arrayContaining([aliceReader.grantId, alicePrinter.grantId]));
    });

    it('describes a registered client with its name, last use and expiry', async () => {
      const response = await call(`${service.url}/v1/account/grants`, 'GET', await issuer.accessToken('alice'));

      const reader = response.body.grants.find((grant: { grant_id: string }) => grant.grant_id === aliceReader.grantId);
      expect(reader).toEqual({
        grant_id: aliceReader.grantId,
        client_id: 'news-reader',
        client_name: 'News Reader',
        scopes: ['news:read', 'offline_access', 'openid'],
        offline_access: true,
        created_at: createdAt.toISOString(),
        last_used_at: lastUsedAt.toISOString(),
        // The idle timeout (one day after the last use) ends it before the one-year maximum.
        expires_at: new Date(lastUsedAt.getTime() + 86_400_000).toISOString(),
      });
    });

    it('names an unregistered client by its id and never expires it', async () => {
      const response = await call(`${service.url}/v1/account/grants`, 'GET', await issuer.accessToken('alice'));

      const printer = response.body.grants.find((grant: { grant_id: string }) => grant.grant_id === alicePrinter.grantId);
      expect(printer.client_name).toBe('photo-printer');
      expect(printer.offline_access).toBe(false);
      expect(printer.last_used_at).toBeNull();
      expect(printer.expires_at).toBeNull();
    });

    it('accepts an RS256 token', async () => {
      const response = await call(`${service.url}/v1/account/grants`, 'GET', await issuer.accessToken('bob', { algorithm: 'RS256' }));

      expect(response.status).toBe(200);
      expect(response.body.grants.map((grant: { grant_id: string }) => grant.grant_id)).toEqual([bobReader.grantId]);
    });
  });

  describe('when the access token is missing or not acceptable', () => {
    it('rejects a request without a token', async () => {
      const response = await call(`${service.url}/v1/account/grants`, 'GET', null);

      expectProblem(response, 401, 'auth.missing_token');
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="account"');
    });

    it('rejects a token sent in a cookie', async () => {
      const token = await issuer.accessToken('alice');

      const response = await call(`${service.url}/v1/account/grants`, 'GET', null, { cookie: `access_token=${token}` });

      expectProblem(response, 401, 'auth.missing_token');
    });

    it.each([
      ['an expired token', { expiresInSeconds: -60 }],
      ['another issuer', { claims: { iss: 'https://other.example' } }],
      ['another audience', { claims: { aud: 'some-other-api' } }],
      ['another client', { claims: { client_id: 'some-other-app' } }],
      ['no client', { claims: { client_id: undefined } }],
      ['an ID token typ', { typ: 'JWT' }],
      ['an unpublished key', { unpublishedKey: true }],
    ])('rejects %s', async (_case, options) => {
      const response = await call(`${service.url}/v1/account/grants`, 'GET', await issuer.accessToken('alice', options));

      expectProblem(response, 401, 'auth.invalid_token');
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="account", error="invalid_token"/);
    });

    it('rejects an HMAC-signed token', async () => {
      const token = await new SignJWT({ sub: 'alice', client_id: accountClientId, aud: accountAudience })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
        .setIssuer(issuer.issuer)
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode('a-shared-secret-that-nobody-should-trust'));

      const response = await call(`${service.url}/v1/account/grants`, 'GET', token);

      expectProblem(response, 401, 'auth.invalid_token');
      expect(response.body.detail).toContain('algorithm');
    });

    it('rejects a malformed token', async () => {
      const response = await call(`${service.url}/v1/account/grants`, 'GET', 'not.a.jwt');

      expectProblem(response, 401, 'auth.invalid_token');
    });
  });

  describe('when the signed-in user revokes a grant', () => {
    it('records GrantRevoked with the user as actor', async () => {
      const [grant] = await seedGrants(dataSource, [{ userId: 'carol', clientId: 'mail-sync' }]);

      const response = await call(`${service.url}/v1/account/grants/${grant.grantId}`, 'DELETE', await issuer.accessToken('carol'));

      expect(response.status).toBe(200);
      expect(response.body.grant_id).toBe(grant.grantId);
      expect(response.body.status).toBe('revoked');
      const events: Array<{ type: string; data: { reason: string; actor: unknown }; position: string }> = await dataSource.query(
        'SELECT type, data, position::text AS position FROM grant_events WHERE grant_id = $1 ORDER BY version',
        [grant.grantId],
      );
      expect(events.map((event) => event.type)).toEqual(['GrantCreated', 'GrantRevoked']);
      expect(events[1].data.reason).toBe('user');
      expect(events[1].data.actor).toEqual({ type: 'user', id: 'carol' });
      expect(response.body.position).toBe(events[1].position);
    });

    it('records nothing when the grant is revoked already', async () => {
      const [grant] = await seedGrants(dataSource, [{ userId: 'dave', clientId: 'mail-sync' }]);
      const token = await issuer.accessToken('dave');
      const first = await call(`${service.url}/v1/account/grants/${grant.grantId}`, 'DELETE', token);

      const second = await call(`${service.url}/v1/account/grants/${grant.grantId}`, 'DELETE', token);

      expect(second.status).toBe(200);
      expect(second.body.position).toBe(first.body.position);
      const [{ count }] = await dataSource.query('SELECT count(*)::integer AS count FROM grant_events WHERE grant_id = $1', [grant.grantId]);
      expect(count).toBe(2);
    });

    it("answers 404 for another user's grant and leaves it active", async () => {
      const response = await call(`${service.url}/v1/account/grants/${bobReader.grantId}`, 'DELETE', await issuer.accessToken('alice'));

      expectProblem(response, 404, 'grant.not_found');
      const pairs = await dataSource.query('SELECT 1 FROM active_grant_pairs WHERE grant_id = $1', [bobReader.grantId]);
      expect(pairs).toHaveLength(1);
    });

    it('answers 404 for an unknown grant', async () => {
      const response = await call(`${service.url}/v1/account/grants/${randomUUID()}`, 'DELETE', await issuer.accessToken('alice'));

      expectProblem(response, 404, 'grant.not_found');
    });

    it('answers 400 for a grant id that is not a UUID', async () => {
      const response = await call(`${service.url}/v1/account/grants/not-a-uuid`, 'DELETE', await issuer.accessToken('alice'));

      expectProblem(response, 400, 'request.invalid_parameter');
      expect(response.body.field).toBe('grant_id');
    });
  });

  describe('when the account page is requested', () => {
    it('serves the HTML with a strict Content-Security-Policy', async () => {
      const response = await fetch(`${service.url}/account`);

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const policy = response.headers.get('content-security-policy') ?? '';
      expect(policy).toContain("default-src 'self'");
      expect(policy).toContain("script-src 'self'");
      expect(policy).toContain("style-src 'self'");
      expect(policy).toContain(`connect-src 'self' ${issuer.issuer}`);
      expect(policy).toContain("frame-ancestors 'none'");
      expect(policy).not.toContain('unsafe');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('cache-control')).toBe('no-store');
    });

    it('has no inline script or style in the HTML', async () => {
      const html = await (await fetch(`${service.url}/account`)).text();

      const scripts = html.match(/<script\b[^>]*>/g) ?? [];
      expect(scripts).toEqual(['<script type="module" src="/account/account.js">']);
      expect(html).not.toMatch(/<style\b/);
      expect(html).not.toMatch(/\sstyle=/);
      expect(html).not.toMatch(/\son[a-z]+=/);
    });

    it.each([
      ['account.js', 'text/javascript; charset=utf-8'],
      ['account.css', 'text/css; charset=utf-8'],
      ['icon.svg', 'image/svg+xml'],
    ])('serves %s as %s', async (file, contentType) => {
      const response = await fetch(`${service.url}/account/${file}`);

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(contentType);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    });

    it('serves the sign-in settings', async () => {
      const response = await fetch(`${service.url}/account/config.json`);

      expect(await response.json()).toEqual({ issuer: issuer.issuer, client_id: accountClientId, scope: 'openid profile' });
    });
  });
});

describe('account API without a reachable issuer', () => {
  let database: TestDatabase;
  const started: StartedHttpApp[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('account_api_issuer');
  });

  afterAll(async () => {
    for (const { app } of started) await app.close();
    await database?.drop();
  });

  async function startService(extra: Record<string, string>): Promise<StartedHttpApp> {
    const environment = testEnvironment(database.url, { RELAY_ENABLED: 'false', ...extra });
    const service = await startTestApp('grant-service', GrantServiceModule.forRoot(loadGrantServiceConfig(environment)));
    started.push(service);
    return service;
  }

  describe('when ACCOUNT_OIDC_ISSUER is unset', () => {
    it('answers 503 account.not_configured', async () => {
      const service = await startService({});

      const response = await call(`${service.url}/v1/account/grants`, 'GET', 'any.token.value');

      expectProblem(response, 503, 'account.not_configured');
      expect(response.body.detail).toContain('ACCOUNT_OIDC_ISSUER');
    });

    it('tells the page that sign-in is not configured', async () => {
      const service = await startService({});

      const response = await fetch(`${service.url}/account/config.json`);

      expect(((await response.json()) as { issuer: unknown }).issuer).toBeNull();
      expect(response.headers.get('content-security-policy')).toContain("connect-src 'self';");
    });
  });

  describe('when the issuer does not answer', () => {
    it('answers 503 account.issuer_unavailable', async () => {
      const port = await closedPort();
      const service = await startService({ ACCOUNT_OIDC_ISSUER: `http://127.0.0.1:${port}` });

      const response = await call(`${service.url}/v1/account/grants`, 'GET', 'any.token.value');

      expectProblem(response, 503, 'account.issuer_unavailable');
      expect(response.headers.get('retry-after')).toBe('5');
    });
  });
});
