import { randomUUID } from 'node:crypto';

import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';
import { waitFor } from '#testing/wait-for.js';

import {
  basicAuthorization,
  bootstrapClientId,
  bootstrapClientSecret,
  GrantProjectionFixtures,
  TokenServiceUnderTest,
} from '../token-service/support/token-service-harness.js';
import { fetchResponse, type LiveResponse, loadAppDocument, OpenApiContract } from './openapi-kit.js';

const bootstrap = { clientId: bootstrapClientId, clientSecret: bootstrapClientSecret };

describe('when the token service answers', () => {
  let database: TestDatabase;
  let service: TokenServiceUnderTest;
  let grants: GrantProjectionFixtures;
  let contract: OpenApiContract;
  let client: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    database = await createTestDatabase('openapi_token_responses');
    service = await TokenServiceUnderTest.start({ databaseUrl: database.url });
    grants = new GrantProjectionFixtures(database.url);
    contract = await OpenApiContract.of(loadAppDocument('token-service').document);
    client = await service.createClient();
  });

  afterAll(async () => {
    await service?.close();
    await database?.drop();
  });

  function expectDocumented(method: string, pathTemplate: string, response: LiveResponse, status: number): void {
    expect(contract.violations(method, pathTemplate, response)).toEqual([]);
    expect(response.status).toBe(status);
  }

  function postForm(path: string, fields: Record<string, string>, credentials?: { clientId: string; clientSecret: string }): Promise<LiveResponse> {
    return fetchResponse(`${service.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(credentials === undefined ? {} : { authorization: basicAuthorization(credentials.clientId, credentials.clientSecret) }),
      },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** Sends a request with a bootstrap access token of `scope`; a string body is sent as it is, any other as JSON. */
  async function withToken(scope: string, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<LiveResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${await service.bootstrapAccessToken(scope)}` };
    let encoded: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = contentType;
      encoded = typeof body === 'string' ? body : JSON.stringify(body);
    }
    return fetchResponse(`${service.url}${path}`, { method, headers, body: encoded });
  }

  async function issueOfflineToken(): Promise<{ grantId: string; refreshToken: string; accessToken: string }> {
    const grant = await grants.insertActiveGrant({ clientId: client.clientId });
    const issued = await withToken('tokens:issue', 'POST', '/v1/offline-tokens', { grant_id: grant.grantId });
    expectDocumented('POST', '/v1/offline-tokens', issued, 200);
    const body = issued.body as { refresh_token: string; access_token: string };
    return { grantId: grant.grantId, refreshToken: body.refresh_token, accessToken: body.access_token };
  }

  describe('metadata and keys', () => {
    it('documents metadata and the JWKS', async () => {
      const metadata = await fetchResponse(`${service.url}/.well-known/oauth-authorization-server`);
      const jwks = await fetchResponse(`${service.url}/.well-known/jwks.json`);

      expectDocumented('GET', '/.well-known/oauth-authorization-server', metadata, 200);
      expectDocumented('GET', '/.well-known/jwks.json', jwks, 200);
      expect((jwks.body as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
    });

    it('documents the signing-key lifecycle', async () => {
      const before = await withToken('clients:admin', 'GET', '/v1/signing-keys');
      const rotated = await withToken('clients:admin', 'POST', '/v1/signing-keys/rotate');
      // TOKEN_KEY_PUBLISH_DELAY_SECONDS is 0 here, so the new key replaces the active one at once.
      const keys = await waitFor(async () => {
        const { items } = (await withToken('clients:admin', 'GET', '/v1/signing-keys')).body as { items: Array<{ kid: string; state: string }> };
        const active = items.find((key) => key.state === 'active');
        const retired = items.find((key) => key.state === 'retired');
        return active && retired ? { active, retired } : undefined;
      }, { description: 'the rotated key to retire the first one' });

      const inUse = await withToken('clients:admin', 'DELETE', `/v1/signing-keys/${keys.active.kid}`);
      const unknown = await withToken('clients:admin', 'DELETE', '/v1/signing-keys/no-such-kid');
      const removed = await withToken('clients:admin', 'DELETE', `/v1/signing-keys/${keys.retired.kid}`);

      expectDocumented('GET', '/v1/signing-keys', before, 200);
      expectDocumented('POST', '/v1/signing-keys/rotate', rotated, 201);
      expectDocumented('DELETE', '/v1/signing-keys/{kid}', inUse, 409);
      expectDocumented('DELETE', '/v1/signing-keys/{kid}', unknown, 404);
      expectDocumented('DELETE', '/v1/signing-keys/{kid}', removed, 204);
    });
  });

  describe('the token endpoint', () => {
    it('documents issued access tokens', async () => {
      const { refreshToken } = await issueOfflineToken();

      const credentials = await postForm('/oauth/token', { grant_type: 'client_credentials', scope: 'grants:read' }, bootstrap);
      const refreshed = await postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, scope: 'profile' }, client);

      expectDocumented('POST', '/oauth/token', credentials, 200);
      expectDocumented('POST', '/oauth/token', refreshed, 200);
      expect(refreshed.headers.get('pragma')).toBe('no-cache');
    });

    it.each([
      ['an unsupported grant type', { grant_type: 'password' }, 'unsupported_grant_type'],
      ['a missing grant type', {}, 'invalid_request'],
      ['a malformed refresh token', { grant_type: 'refresh_token', refresh_token: 'not-a-jwt' }, 'invalid_grant'],
      ['a scope outside the client', { grant_type: 'client_credentials', scope: 'not:allowed' }, 'invalid_scope'],
    ])('documents %s as a 400 OAuth error', async (_case, fields, error) => {
      const response = await postForm('/oauth/token', fields, bootstrap);

      expectDocumented('POST', '/oauth/token', response, 400);
      expect(response.body).toMatchObject({ error });
      expect(response.headers.get('cache-control')).toBe('no-store');
    });

    it('documents a JSON body as invalid_request', async () => {
      const response = await fetchResponse(`${service.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuthorization(bootstrapClientId, bootstrapClientSecret) },
        body: JSON.stringify({ grant_type: 'client_credentials' }),
      });

      expectDocumented('POST', '/oauth/token', response, 400);
      expect(response.body).toMatchObject({ error: 'invalid_request' });
    });

    it('documents failed Basic authentication', async () => {
      const response = await postForm('/oauth/token', { grant_type: 'client_credentials' }, { clientId: bootstrapClientId, clientSecret: 'wrong-secret' });

      expectDocumented('POST', '/oauth/token', response, 401);
      expect(response.body).toMatchObject({ error: 'invalid_client' });
      expect(response.headers.get('www-authenticate')).toBe('Basic realm="offline-grants"');
    });

    it('documents a body too large', async () => {
      const response = await postForm('/oauth/token', { grant_type: 'client_credentials', padding: 'x'.repeat(70_000) }, bootstrap);

      expectDocumented('POST', '/oauth/token', response, 413);
    });
  });

  describe('introspection and revocation', () => {
    it('documents active and inactive tokens', async () => {
      const { refreshToken, accessToken } = await issueOfflineToken();

      const refresh = await postForm('/oauth/introspect', { token: refreshToken }, client);
      const access = await postForm('/oauth/introspect', { token: accessToken }, client);
      const inactive = await postForm('/oauth/introspect', { token: 'not-a-token' }, client);

      expectDocumented('POST', '/oauth/introspect', refresh, 200);
      expect(refresh.body).toMatchObject({ active: true, grant_id: expect.any(String) });
      expectDocumented('POST', '/oauth/introspect', access, 200);
      expect(access.body).toMatchObject({ active: true, token_type: 'Bearer' });
      expectDocumented('POST', '/oauth/introspect', inactive, 200);
      expect(inactive.body).toEqual({ active: false });
    });

    it('documents rejected introspection requests', async () => {
      const publicClient = await service.createClient({ type: 'public' });

      const unauthorized = await postForm('/oauth/introspect', { token: 'x', client_id: publicClient.clientId });
      const missingToken = await postForm('/oauth/introspect', {}, client);

      expectDocumented('POST', '/oauth/introspect', unauthorized, 401);
      expectDocumented('POST', '/oauth/introspect', missingToken, 400);
    });

    it('documents allowed and rejected revocations', async () => {
      const { accessToken } = await issueOfflineToken();
      const other = await service.createClient();

      const otherClientRevocation = await postForm('/oauth/revoke', { token: accessToken }, other);
      const revoked = await postForm('/oauth/revoke', { token: accessToken, token_type_hint: 'access_token' }, client);

      expectDocumented('POST', '/oauth/revoke', otherClientRevocation, 400);
      expect(otherClientRevocation.body).toMatchObject({ error: 'unauthorized_client' });
      expectDocumented('POST', '/oauth/revoke', revoked, 200);
      expect(revoked.body).toBeUndefined();
    });
  });

  describe('offline-token issuance', () => {
    it('documents grants that get no token', async () => {
      const revoked = await grants.insertActiveGrant({ clientId: client.clientId });
      await grants.revoke(revoked.grantId);
      const online = await grants.insertActiveGrant({ clientId: client.clientId, scopes: ['profile'] });

      const unknown = await withToken('tokens:issue', 'POST', '/v1/offline-tokens', { grant_id: randomUUID() });
      const ofRevoked = await withToken('tokens:issue', 'POST', '/v1/offline-tokens', { grant_id: revoked.grantId });
      const ofOnline = await withToken('tokens:issue', 'POST', '/v1/offline-tokens', { grant_id: online.grantId, min_position: '0' });

      expectDocumented('POST', '/v1/offline-tokens', unknown, 404);
      expectDocumented('POST', '/v1/offline-tokens', ofRevoked, 409);
      expect(ofRevoked.body).toMatchObject({ code: 'token.grant_revoked' });
      expectDocumented('POST', '/v1/offline-tokens', ofOnline, 409);
      expect(ofOnline.body).toMatchObject({ code: 'token.offline_access_missing' });
    });

    it('documents invalid requests and callers', async () => {
      const invalid = await withToken('tokens:issue', 'POST', '/v1/offline-tokens', { grant_id: 'nope' });
      const form = await withToken('tokens:issue', 'POST', '/v1/offline-tokens', 'grant_id=x', 'application/x-www-form-urlencoded');
      const wrongScope = await withToken('clients:admin', 'POST', '/v1/offline-tokens', { grant_id: randomUUID() });
      const noToken = await fetchResponse(`${service.url}/v1/offline-tokens`, { method: 'POST' });

      expectDocumented('POST', '/v1/offline-tokens', invalid, 400);
      expect(invalid.body).toMatchObject({ code: 'request.invalid_body', field: 'grant_id' });
      expectDocumented('POST', '/v1/offline-tokens', form, 415);
      expectDocumented('POST', '/v1/offline-tokens', wrongScope, 403);
      expectDocumented('POST', '/v1/offline-tokens', noToken, 401);
      expect(noToken.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    });
  });

  describe('the client registry', () => {
    it('documents the client lifecycle', async () => {
      const clientId = `openapi-${randomUUID()}`;

      const confidential = await withToken('clients:admin', 'POST', '/v1/clients', { client_id: clientId, name: 'OpenAPI client', scopes: ['reports:read'] });
      const publicClient = await withToken('grants:admin', 'POST', '/v1/clients', { name: 'OpenAPI app', type: 'public', offline_max_lifetime_seconds: 3600 });
      const duplicate = await withToken('clients:admin', 'POST', '/v1/clients', { client_id: clientId, name: 'Again' });
      const page = await withToken('clients:admin', 'GET', '/v1/clients?limit=1');
      const read = await withToken('clients:admin', 'GET', `/v1/clients/${clientId}`);
      const removed = await withToken('clients:admin', 'DELETE', `/v1/clients/${clientId}`);
      const readAfterRemoval = await withToken('clients:admin', 'GET', `/v1/clients/${clientId}`);

      expectDocumented('POST', '/v1/clients', confidential, 201);
      expect(confidential.body).toHaveProperty('client_secret');
      expectDocumented('POST', '/v1/clients', publicClient, 201);
      expect(publicClient.body).not.toHaveProperty('client_secret');
      expectDocumented('POST', '/v1/clients', duplicate, 409);
      expectDocumented('GET', '/v1/clients', page, 200);
      expect((page.body as { next_cursor: unknown }).next_cursor).toEqual(expect.any(String));
      expectDocumented('GET', '/v1/clients/{clientId}', read, 200);
      expectDocumented('DELETE', '/v1/clients/{clientId}', removed, 204);
      expectDocumented('GET', '/v1/clients/{clientId}', readAfterRemoval, 404);
    });

    it('documents rejected client requests', async () => {
      const invalid = await withToken('clients:admin', 'POST', '/v1/clients', { name: 'x', secret: 'mine' });
      const badLimit = await withToken('clients:admin', 'GET', '/v1/clients?limit=0');
      const bootstrapRemoval = await withToken('clients:admin', 'DELETE', `/v1/clients/${bootstrapClientId}`);
      const unknownRemoval = await withToken('clients:admin', 'DELETE', `/v1/clients/${randomUUID()}`);

      expectDocumented('POST', '/v1/clients', invalid, 400);
      expect(invalid.body).toMatchObject({ code: 'client.invalid_input', field: 'secret' });
      expectDocumented('GET', '/v1/clients', badLimit, 400);
      expectDocumented('DELETE', '/v1/clients/{clientId}', bootstrapRemoval, 409);
      expectDocumented('DELETE', '/v1/clients/{clientId}', unknownRemoval, 404);
    });
  });
});
