import { decodeJwt, decodeProtectedHeader } from 'jose';

import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';

import { GrantServiceStandIn } from './support/grant-service-stand-in.js';
import { GrantProjectionFixtures, TokenServiceUnderTest } from './support/token-service-harness.js';

describe('when an offline token lives through its grant', () => {
  let database: TestDatabase;
  let standIn: GrantServiceStandIn;
  let service: TokenServiceUnderTest;
  let grants: GrantProjectionFixtures;
  let client: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    database = await createTestDatabase('token_lifecycle');
    standIn = new GrantServiceStandIn(database.url, 'http://127.0.0.1:3001');
    const standInUrl = await standIn.start();
    service = await TokenServiceUnderTest.start({ databaseUrl: database.url, environment: { GRANT_SERVICE_URL: standInUrl } });
    standIn.useTokenService(service.url);
    grants = new GrantProjectionFixtures(database.url, service);
    client = await service.createClient();
  });

  afterAll(async () => {
    await grants?.close();
    await service?.close();
    await standIn?.stop();
    await database?.drop();
  });

  it('issues, refreshes, and stops refreshing once the grant is revoked', async () => {
    const grant = await grants.insertActiveGrant({ clientId: client.clientId });

    const issued = await service.issueOfflineToken(grant.grantId);
    expect(decodeProtectedHeader(issued.refresh_token).typ).toBe('offline-rt+jwt');
    const refreshClaims = decodeJwt(issued.refresh_token);
    expect(refreshClaims).toMatchObject({
      iss: 'http://127.0.0.1:3001',
      sub: grant.userId,
      client_id: client.clientId,
      grant_id: grant.grantId,
      scope: 'offline_access profile reports:read',
    });
    expect(refreshClaims.exp).toBeUndefined();
    expect(issued.scope).toBe('offline_access profile reports:read');

    const refreshed = await service.refresh(client, issued.refresh_token);
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers.get('cache-control')).toBe('no-store');
    const body = (await refreshed.json()) as { access_token: string; token_type: string; expires_in: number; scope: string };
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(300);
    expect(body.scope).toBe('offline_access profile reports:read');
    expect(decodeProtectedHeader(body.access_token).typ).toBe('at+jwt');
    expect(decodeJwt(body.access_token)).toMatchObject({
      sub: grant.userId,
      aud: 'offline-grants-api',
      client_id: client.clientId,
      grant_id: grant.grantId,
    });

    await grants.revoke(grant.grantId);

    const refused = await service.refresh(client, issued.refresh_token);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'invalid_grant', error_description: `grant ${grant.grantId} of the refresh token is revoked` });
    expect(await service.introspect(client, issued.refresh_token)).toEqual({ active: false });
    expect(await service.introspect(client, body.access_token)).toEqual({ active: false });

    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/token_service_token_requests_total\{grant_type="refresh_token",outcome="issued"\} [1-9]/);
    expect(metrics).toMatch(/token_service_token_requests_total\{grant_type="refresh_token",outcome="invalid_grant"\} [1-9]/);
  });

  it('revokes the grant on token revocation', async () => {
    const grant = await grants.insertActiveGrant({ clientId: client.clientId });
    const issued = await service.issueOfflineToken(grant.grantId);
    expect((await service.introspect(client, issued.refresh_token)).active).toBe(true);

    const revoked = await service.postForm('/oauth/revoke', { token: issued.refresh_token, token_type_hint: 'refresh_token' }, client);
    expect(revoked.status).toBe(200);

    const call = standIn.revocations.find((revocation) => revocation.grantId === grant.grantId);
    expect(call?.body).toEqual({ reason: 'token_revoked', actor: { type: 'client', id: client.clientId } });
    expect(call?.tokenError).toBeUndefined();
    expect(call?.tokenClaims).toMatchObject({ client_id: 'bootstrap-service', scope: 'grants:admin' });
    expect(await grants.row(grant.grantId)).toEqual({ status: 'revoked', revoke_reason: 'token_revoked' });

    const refused = await service.refresh(client, issued.refresh_token);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('keeps the refresh token valid when the grant service fails the revocation', async () => {
    const grant = await grants.insertActiveGrant({ clientId: client.clientId });
    const issued = await service.issueOfflineToken(grant.grantId);
    standIn.failWithStatus = 500;
    try {
      const revoked = await service.postForm('/oauth/revoke', { token: issued.refresh_token }, client);
      expect(revoked.status).toBe(503);
      expect(revoked.headers.get('retry-after')).toBe('1');
      expect(((await revoked.json()) as { error: string }).error).toBe('temporarily_unavailable');
    } finally {
      standIn.failWithStatus = undefined;
    }
    expect((await service.refresh(client, issued.refresh_token)).status).toBe(200);
  });

  it('denies a revoked access token until it expires', async () => {
    const grant = await grants.insertActiveGrant({ clientId: client.clientId });
    const issued = await service.issueOfflineToken(grant.grantId);
    expect((await service.introspect(client, issued.access_token)).active).toBe(true);

    const revoked = await service.postForm('/oauth/revoke', { token: issued.access_token }, client);
    expect(revoked.status).toBe(200);

    expect(await service.introspect(client, issued.access_token)).toEqual({ active: false });
    expect((await service.introspect(client, issued.refresh_token)).active).toBe(true);
    const rows = await grants.query('SELECT client_id, expires_at FROM revoked_access_tokens WHERE jti = $1', [decodeJwt(issued.access_token).jti]);
    expect(rows).toHaveLength(1);
    expect((rows[0].expires_at as Date).getTime()).toBe(decodeJwt(issued.access_token).exp! * 1000);
  });

  it('answers 200 to the revocation of an unknown or malformed token', async () => {
    for (const token of ['not-a-token', 'a.b.c', 'eyJhbGciOiJub25lIn0.e30.']) {
      const response = await service.postForm('/oauth/revoke', { token }, client);
      expect(response.status).toBe(200);
    }
  });

  describe('when issuance waits for the projection', () => {
    it('answers 503 with Retry-After while the projection is behind min_position, then 200', async () => {
      const grant = await grants.insertActiveGrant({ clientId: client.clientId, position: 5n });
      // The event store contains a later event of this grant that the projection has not applied yet.
      await grants.query(
        `INSERT INTO grant_events (position, event_id, grant_id, version, type, data, metadata, recorded_at)
         VALUES (7, gen_random_uuid(), $1, 2, 'GrantScopesChanged', '{}', '{}', now())`,
        [grant.grantId],
      );
      // Published and applied as far as the freshness monitor is concerned.
      await grants.query(
        `INSERT INTO relay_checkpoints (relay_name, transaction_id, position)
         SELECT $1, transaction_id, position FROM grant_events WHERE position = 7`,
        [service.config.RELAY_NAME],
      );

      const behind = await service.requestOfflineToken({ grant_id: grant.grantId, min_position: '7' });
      expect(behind.status).toBe(503);
      expect(behind.headers.get('retry-after')).toBe('1');
      expect(behind.headers.get('content-type')).toContain('application/problem+json');
      expect(await behind.json()).toMatchObject({ status: 503, code: 'token.projection_behind', field: 'min_position' });

      await grants.query('UPDATE grants SET position = 7, version = 2 WHERE grant_id = $1', [grant.grantId]);
      const caughtUp = await service.requestOfflineToken({ grant_id: grant.grantId, min_position: 7 });
      expect(caughtUp.status).toBe(200);
    });
  });

  describe('when issuance is refused', () => {
    it.each([
      ['an unknown grant', 'unknown', 404, 'token.grant_not_found'],
      ['a revoked grant', 'revoked', 409, 'token.grant_revoked'],
      ['a grant without offline_access', 'no-offline', 409, 'token.offline_access_missing'],
    ])('answers %s with its problem code', async (_case, kind, status, code) => {
      let grantId = '2f1d1d0e-9a43-4a6e-9e0c-5f1c7c0b1a11';
      if (kind !== 'unknown') {
        const grant = await grants.insertActiveGrant({
          clientId: client.clientId,
          scopes: kind === 'no-offline' ? ['profile'] : ['offline_access'],
        });
        if (kind === 'revoked') await grants.revoke(grant.grantId);
        grantId = grant.grantId;
      }
      const response = await service.requestOfflineToken({ grant_id: grantId });
      expect(response.status).toBe(status);
      expect(await response.json()).toMatchObject({ status, code, field: 'grant_id' });
    });

    it('answers 400 naming the field for a malformed grant_id or min_position', async () => {
      const badId = await service.requestOfflineToken({ grant_id: 'not-a-uuid' });
      expect(badId.status).toBe(400);
      expect(await badId.json()).toMatchObject({ code: 'request.invalid_body', field: 'grant_id' });

      const badPosition = await service.requestOfflineToken({ grant_id: '2f1d1d0e-9a43-4a6e-9e0c-5f1c7c0b1a11', min_position: -1 });
      expect(badPosition.status).toBe(400);
      expect(await badPosition.json()).toMatchObject({ code: 'request.invalid_body', field: 'min_position' });
    });

    it('answers 401 without a token and 403 without the scope tokens:issue', async () => {
      const anonymous = await fetch(`${service.url}/v1/offline-tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"grant_id":"2f1d1d0e-9a43-4a6e-9e0c-5f1c7c0b1a11"}',
      });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect(await anonymous.json()).toMatchObject({ code: 'auth.invalid_token' });

      const wrongScope = await fetch(`${service.url}/v1/offline-tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await service.bootstrapAccessToken('grants:read')}`, 'content-type': 'application/json' },
        body: '{"grant_id":"2f1d1d0e-9a43-4a6e-9e0c-5f1c7c0b1a11"}',
      });
      expect(wrongScope.status).toBe(403);
      expect(await wrongScope.json()).toMatchObject({ code: 'auth.insufficient_scope' });
    });
  });
});
