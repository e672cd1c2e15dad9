import { randomUUID } from 'node:crypto';

import { startTestOpenIdIssuer, type TestOpenIdIssuer } from '#testing/test-openid-issuer.js';
import { waitFor } from '#testing/wait-for.js';

import { type ApiResponse, type GrantApi, seedProjection, startGrantApi } from '../grant-api/grant-api-harness.js';
import { fetchResponse, loadAppDocument, OpenApiContract } from './openapi-kit.js';

const accountClientId = 'openapi-account-page';

describe('when the grant service answers', () => {
  let issuer: TestOpenIdIssuer;
  let api: GrantApi;
  let contract: OpenApiContract;
  let adminToken: string;

  beforeAll(async () => {
    issuer = await startTestOpenIdIssuer({ clientId: accountClientId });
    api = await startGrantApi('openapi_grant_responses', {
      // A short min_position wait keeps the 503 case quick.
      GRANT_API_MIN_POSITION_WAIT_MS: '50',
      ACCOUNT_OIDC_ISSUER: issuer.issuer,
      ACCOUNT_OIDC_CLIENT_ID: accountClientId,
    });
    contract = await OpenApiContract.of(loadAppDocument('grant-service').document);
    adminToken = await api.token({ scope: 'grants:admin', clientId: 'openapi-admin' });
  });

  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  function expectDocumented(method: string, pathTemplate: string, response: ApiResponse, status: number): void {
    expect(contract.violations(method, pathTemplate, response)).toEqual([]);
    expect(response.status).toBe(status);
  }

  /** Creates a grant for a new user and copies it into the projection, as the projector would. */
  async function createProjectedGrant(scopes = ['openid', 'offline_access']) {
    const response = await api.request('POST', '/v1/grants', { json: { user_id: `user-${randomUUID()}`, client_id: 'openapi-client', scopes } });
    const grant = response.body.grant;
    await seedProjection(api.db, {
      grantId: grant.grant_id,
      userId: grant.user_id,
      clientId: grant.client_id,
      scopes: grant.scopes,
      createdAt: new Date(grant.created_at),
      version: grant.version,
      position: grant.position,
    });
    return { response, grant };
  }

  describe('grant commands', () => {
    it('documents creation and repeated consent', async () => {
      const body = { user_id: `user-${randomUUID()}`, client_id: 'openapi-client', scopes: ['openid'] };

      const created = await api.request('POST', '/v1/grants', { json: body });
      const again = await api.request('POST', '/v1/grants', { json: body });

      expectDocumented('POST', '/v1/grants', created, 201);
      expect(created.headers.get('location')).toBe(`/v1/grants/${created.body.grant.grant_id}`);
      expectDocumented('POST', '/v1/grants', again, 200);
    });

    it('documents idempotent replay and key reuse', async () => {
      const key = randomUUID();
      const body = { user_id: `user-${randomUUID()}`, client_id: 'openapi-client', scopes: ['openid'] };

      await api.request('POST', '/v1/grants', { json: body, headers: { 'idempotency-key': key } });
      const replayed = await api.request('POST', '/v1/grants', { json: body, headers: { 'idempotency-key': key } });
      const reused = await api.request('POST', '/v1/grants', { json: { ...body, scopes: ['email'] }, headers: { 'idempotency-key': key } });

      expectDocumented('POST', '/v1/grants', replayed, 201);
      expect(replayed.headers.get('idempotent-replayed')).toBe('true');
      expectDocumented('POST', '/v1/grants', reused, 422);
      expect(reused.body.code).toBe('idempotency.key_reused');
    });

    it('documents change, revocation and conflict', async () => {
      const { grant } = await createProjectedGrant();

      const changed = await api.request('PATCH', `/v1/grants/${grant.grant_id}`, { json: { scopes: ['openid', 'email'] } });
      const revoked = await api.request('DELETE', `/v1/grants/${grant.grant_id}`, { json: { reason: 'user' } });
      const conflict = await api.request('PATCH', `/v1/grants/${grant.grant_id}`, { json: { scopes: ['openid'] } });

      expectDocumented('PATCH', '/v1/grants/{grant_id}', changed, 200);
      expectDocumented('DELETE', '/v1/grants/{grant_id}', revoked, 200);
      expectDocumented('PATCH', '/v1/grants/{grant_id}', conflict, 409);
      expect(conflict.body.code).toBe('grant.revoked');
    });

    it('documents a revocation without a body', async () => {
      const { grant } = await createProjectedGrant();

      const revoked = await api.request('DELETE', `/v1/grants/${grant.grant_id}`);

      expectDocumented('DELETE', '/v1/grants/{grant_id}', revoked, 200);
    });

    it('documents an invalid scope problem', async () => {
      const response = await api.request('POST', '/v1/grants', { json: { user_id: 'u', client_id: 'c', scopes: ['open id'] } });

      expectDocumented('POST', '/v1/grants', response, 400);
      expect(response.body).toMatchObject({ code: 'grant.invalid_scopes', field: 'scopes[0]' });
    });

    it('documents missing token and scope', async () => {
      const missing = await api.request('POST', '/v1/grants', { json: { user_id: 'u', client_id: 'c', scopes: ['openid'] }, token: null });
      const readOnly = await api.request('POST', '/v1/grants', {
        json: { user_id: 'u', client_id: 'c', scopes: ['openid'] },
        token: await api.token({ scope: 'grants:read' }),
      });

      expectDocumented('POST', '/v1/grants', missing, 401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expectDocumented('POST', '/v1/grants', readOnly, 403);
    });

    it('documents rejected request bodies', async () => {
      const text = await api.request('POST', '/v1/grants', { rawBody: 'user_id=u', headers: { 'content-type': 'text/plain' } });
      const large = await api.request('POST', '/v1/grants', { json: { user_id: 'u', client_id: 'c', scopes: ['x'.repeat(70_000)] } });
      const invalidJson = await api.request('POST', '/v1/grants', { rawBody: '{"user_id":', headers: { 'content-type': 'application/json' } });

      expectDocumented('POST', '/v1/grants', text, 415);
      expectDocumented('POST', '/v1/grants', large, 413);
      expectDocumented('POST', '/v1/grants', invalidJson, 400);
    });
  });

  describe('grant queries', () => {
    it('documents grant, history and list', async () => {
      const { grant } = await createProjectedGrant();

      const read = await api.request('GET', `/v1/grants/${grant.grant_id}?min_position=${grant.position}`);
      const history = await api.request('GET', `/v1/grants/${grant.grant_id}/history`);
      const page = await api.request('GET', `/v1/grants?user_id=${encodeURIComponent(grant.user_id)}&status=active&limit=1`);

      expectDocumented('GET', '/v1/grants/{grant_id}', read, 200);
      expectDocumented('GET', '/v1/grants/{grant_id}/history', history, 200);
      expectDocumented('GET', '/v1/grants', page, 200);
      expect(page.body.items).toHaveLength(1);
    });

    it('documents rejected grant queries', async () => {
      const unknown = await api.request('GET', `/v1/grants/${randomUUID()}`);
      const badId = await api.request('GET', '/v1/grants/not-a-uuid/history');
      const noFilter = await api.request('GET', '/v1/grants');

      expectDocumented('GET', '/v1/grants/{grant_id}', unknown, 404);
      expectDocumented('GET', '/v1/grants/{grant_id}/history', badId, 400);
      expectDocumented('GET', '/v1/grants', noFilter, 400);
    });

    it('documents a projection behind min_position', async () => {
      const { grant } = await createProjectedGrant();
      // The projection keeps the created grant, so it never reaches the position of this change.
      const changed = await api.request('PATCH', `/v1/grants/${grant.grant_id}`, { json: { scopes: ['openid'] } });

      const behind = await api.request('GET', `/v1/grants/${grant.grant_id}?min_position=${changed.body.position}`);

      expectDocumented('GET', '/v1/grants/{grant_id}', behind, 503);
      expect(behind.body.code).toBe('projection.behind');
      expect(behind.headers.get('retry-after')).toBe('1');
    });
  });

  describe('bulk revocation', () => {
    const admin = () => ({ token: adminToken });

    it('documents the revocation job lifecycle', async () => {
      const { grant } = await createProjectedGrant();

      const dryRun = await api.request('POST', '/v1/admin/revocations', { ...admin(), json: { user_id: grant.user_id, reason: 'user_removed', dry_run: true } });
      const started = await api.request('POST', '/v1/admin/revocations', { ...admin(), json: { user_id: grant.user_id, reason: 'user_removed' } });
      const jobPath = `/v1/admin/revocations/${started.body.job_id}`;
      const completed = await waitFor(async () => {
        const response = await api.request('GET', jobPath, admin());
        return response.body.status === 'completed' ? response : undefined;
      }, { description: 'the revocation job to complete' });
      const resumed = await api.request('POST', `${jobPath}/resume`, admin());

      expectDocumented('POST', '/v1/admin/revocations', dryRun, 200);
      expect(dryRun.body).toEqual({ dry_run: true, count: 1, sample: [grant.grant_id] });
      expectDocumented('POST', '/v1/admin/revocations', started, 202);
      expect(started.headers.get('location')).toBe(jobPath);
      expectDocumented('GET', '/v1/admin/revocations/{job_id}', completed, 200);
      expectDocumented('POST', '/v1/admin/revocations/{job_id}/resume', resumed, 409);
    });

    it('documents rejected revocation requests', async () => {
      const invalid = await api.request('POST', '/v1/admin/revocations', { ...admin(), json: { reason: 'admin' } });
      const unknown = await api.request('GET', `/v1/admin/revocations/${randomUUID()}`, admin());
      const resumeUnknown = await api.request('POST', `/v1/admin/revocations/${randomUUID()}/resume`, admin());

      expectDocumented('POST', '/v1/admin/revocations', invalid, 400);
      expect(invalid.body.code).toBe('revocation.invalid_filter');
      expectDocumented('GET', '/v1/admin/revocations/{job_id}', unknown, 404);
      expectDocumented('POST', '/v1/admin/revocations/{job_id}/resume', resumeUnknown, 404);
    });
  });

  describe('account page and API', () => {
    it("documents the user's grants and their revocation", async () => {
      const { grant } = await createProjectedGrant();
      // The token service's registry names the client and limits its grants' idle time, so that
      // no field of the entry is null.
      await api.db.query(
        `INSERT INTO oauth_clients (client_id, name, client_type, secret_hash, allowed_scopes, access_token_lifetime_seconds,
                                    offline_idle_timeout_seconds, offline_max_lifetime_seconds, created_at)
         VALUES ($1, 'OpenAPI Client', 'public', NULL, '{}', 300, 86400, NULL, now())
         ON CONFLICT (client_id) DO NOTHING`,
        [grant.client_id],
      );
      await api.db.query('INSERT INTO grant_last_used (grant_id, last_used_at) VALUES ($1, now())', [grant.grant_id]);
      const token = await issuer.accessToken(grant.user_id);

      const listed = await api.request('GET', '/v1/account/grants', { token });
      const revoked = await api.request('DELETE', `/v1/account/grants/${grant.grant_id}`, { token });
      const unknown = await api.request('DELETE', `/v1/account/grants/${randomUUID()}`, { token });

      expectDocumented('GET', '/v1/account/grants', listed, 200);
      expect(listed.body.grants).toEqual([expect.objectContaining({ grant_id: grant.grant_id, client_name: 'OpenAPI Client', offline_access: true })]);
      expect(listed.body.grants[0].last_used_at).not.toBeNull();
      expect(listed.body.grants[0].expires_at).not.toBeNull();
      expectDocumented('DELETE', '/v1/account/grants/{grant_id}', revoked, 200);
      expectDocumented('DELETE', '/v1/account/grants/{grant_id}', unknown, 404);
    });

    it('documents rejected account tokens', async () => {
      const missing = await api.request('GET', '/v1/account/grants', { token: null });
      const otherClient = await api.request('GET', '/v1/account/grants', {
        token: await issuer.accessToken('someone', { claims: { client_id: 'another-app' } }),
      });

      expectDocumented('GET', '/v1/account/grants', missing, 401);
      expect(missing.body.code).toBe('auth.missing_token');
      expectDocumented('GET', '/v1/account/grants', otherClient, 401);
      expect(otherClient.body.code).toBe('auth.invalid_token');
    });

    it.each([
      ['/account', 'text/html'],
      ['/account/account.js', 'text/javascript'],
      ['/account/account.css', 'text/css'],
      ['/account/icon.svg', 'image/svg+xml'],
      ['/account/config.json', 'application/json'],
    ])('documents %s', async (path, mediaType) => {
      const response = await fetchResponse(`${api.url}${path}`);

      expectDocumented('GET', path, response, 200);
      expect(response.headers.get('content-type')?.split(';')[0]).toBe(mediaType);
    });
  });
});
