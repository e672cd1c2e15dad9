import { loadGrantServiceConfig } from '../../apps/grant-service/src/config/grant-service.config.js';
import { GrantServiceModule } from '../../apps/grant-service/src/grant-service.module.js';
import { startHttpApp, type StartedHttpApp } from '#platform/start-http-app.js';
import { testEnvironment } from '#testing/test-apps.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';

import { TestClock } from './support/test-clock.js';
import { freePort, GrantProjectionFixtures, TokenServiceUnderTest } from './support/token-service-harness.js';

interface HistoryEvent {
  type: string;
  reason?: string;
  actor: { type: string; id: string };
}

/**
 * The grant-revocation port against the real grant service: its DELETE /v1/grants/{grant_id}
 * verifies the token service's self-issued access token against the token service's JWKS and
 * appends GrantRevoked. No relay or projector runs here, so the `grants` rows are projection
 * fixtures written by the test.
 */
describe('when the token service revokes grants in the real grant service', () => {
  let database: TestDatabase;
  let grantService: StartedHttpApp;
  let tokenService: TokenServiceUnderTest;
  let grants: GrantProjectionFixtures;
  const clock = new TestClock();

  beforeAll(async () => {
    database = await createTestDatabase('token_grant_service');
    const grantServicePort = await freePort();
    tokenService = await TokenServiceUnderTest.start({
      databaseUrl: database.url,
      clock,
      environment: { GRANT_SERVICE_URL: `http://127.0.0.1:${grantServicePort}` },
    });
    const grantServiceEnvironment = testEnvironment(database.url, {
      GRANT_API_JWKS_URL: `${tokenService.url}/.well-known/jwks.json`,
      GRANT_API_ISSUER: 'http://127.0.0.1:3001',
      RELAY_ENABLED: 'false',
      ADMIN_REVOCATION_AUTO_RESUME: 'false',
    });
    grantService = await startHttpApp(GrantServiceModule.forRoot(loadGrantServiceConfig(grantServiceEnvironment)), {
      appName: 'grant-service',
      host: '127.0.0.1',
      port: grantServicePort,
    });
    grants = new GrantProjectionFixtures(database.url);
  });

  afterAll(async () => {
    await grantService?.app.close();
    await tokenService?.close();
    await database?.drop();
  });

  /** Creates a grant through the grant service and mirrors it into the projection as a fixture. */
  async function createGrant(clientId: string, userId: string): Promise<string> {
    const response = await fetch(`${grantService.url}/v1/grants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokenService.bootstrapAccessToken('grants:write')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: userId, client_id: clientId, scopes: ['offline_access', 'profile'] }),
    });
    expect(response.status).toBe(201);
    const { grant } = (await response.json()) as { grant: { grant_id: string; created_at: string } };
    await grants.insertActiveGrant({
      grantId: grant.grant_id,
      clientId,
      userId,
      scopes: ['offline_access', 'profile'],
      createdAt: new Date(grant.created_at),
    });
    return grant.grant_id;
  }

  async function history(grantId: string): Promise<HistoryEvent[]> {
    const response = await fetch(`${grantService.url}/v1/grants/${grantId}/history`, {
      headers: { authorization: `Bearer ${await tokenService.bootstrapAccessToken('grants:read')}` },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { events: HistoryEvent[] }).events;
  }

  it('records token revocation by the client', async () => {
    const client = await tokenService.createClient();
    const grantId = await createGrant(client.clientId, 'user-revoking');
    const issued = await tokenService.issueOfflineToken(grantId);

    const response = await tokenService.postForm('/oauth/revoke', { token: issued.refresh_token }, client);
    expect(response.status).toBe(200);

    const revoked = (await history(grantId)).filter((event) => event.type === 'GrantRevoked');
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({ reason: 'token_revoked', actor: { type: 'client', id: client.clientId } });

    // A second revocation of the same token is accepted and records nothing new.
    expect((await tokenService.postForm('/oauth/revoke', { token: issued.refresh_token }, client)).status).toBe(200);
    expect((await history(grantId)).filter((event) => event.type === 'GrantRevoked')).toHaveLength(1);
  });

  it('records expiry found by a refresh', async () => {
    const client = await tokenService.createClient({ offlineMaxLifetimeSeconds: 3600 });
    const grantId = await createGrant(client.clientId, 'user-expiring');
    const issued = await tokenService.issueOfflineToken(grantId);

    clock.advance(2 * 3600 * 1000);
    const response = await tokenService.refresh(client, issued.refresh_token);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_grant');

    const revoked = (await history(grantId)).filter((event) => event.type === 'GrantRevoked');
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({ reason: 'expired', actor: { type: 'system', id: 'token-service' } });
  });
});
