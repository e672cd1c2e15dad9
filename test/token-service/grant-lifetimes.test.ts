import { decodeJwt } from 'jose';

import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';

import { GrantServiceStandIn } from './support/grant-service-stand-in.js';
import { TestClock } from './support/test-clock.js';
import { GrantProjectionFixtures, TokenServiceUnderTest } from './support/token-service-harness.js';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

describe('when a client limits the lifetime of its offline grants', () => {
  let database: TestDatabase;
  let standIn: GrantServiceStandIn;
  let service: TokenServiceUnderTest;
  let grants: GrantProjectionFixtures;
  const clock = new TestClock();

  beforeAll(async () => {
    database = await createTestDatabase('token_lifetimes');
    standIn = new GrantServiceStandIn(database.url, 'http://127.0.0.1:3001');
    const standInUrl = await standIn.start();
    service = await TokenServiceUnderTest.start({ databaseUrl: database.url, clock, environment: { GRANT_SERVICE_URL: standInUrl } });
    standIn.useTokenService(service.url);
    grants = new GrantProjectionFixtures(database.url);
  });

  afterAll(async () => {
    await service?.close();
    await standIn?.stop();
    await database?.drop();
  });

  async function expectExpiredAndRevoked(response: Response, grantId: string): Promise<void> {
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_grant');
    const call = standIn.revocations.find((revocation) => revocation.grantId === grantId);
    expect(call?.body).toEqual({ reason: 'expired', actor: { type: 'system', id: 'token-service' } });
    expect(await grants.row(grantId)).toEqual({ status: 'revoked', revoke_reason: 'expired' });
  }

  describe('when the client sets an idle timeout', () => {
    it('refreshes while used within the timeout and refuses and revokes after it', async () => {
      const client = await service.createClient({ offlineIdleTimeoutSeconds: 3600 });
      const grant = await grants.insertActiveGrant({ clientId: client.clientId, createdAt: clock.now() });
      const { refresh_token: refreshToken } = await service.issueOfflineToken(grant.grantId);

      // Each refresh within the hour moves the idle clock, so the grant outlives its first hour.
      for (let step = 0; step < 3; step += 1) {
        clock.advance(50 * minute);
        expect((await service.refresh(client, refreshToken)).status).toBe(200);
      }
      expect(standIn.revocations.some((revocation) => revocation.grantId === grant.grantId)).toBe(false);

      clock.advance(hour + minute);
      await expectExpiredAndRevoked(await service.refresh(client, refreshToken), grant.grantId);
    });

    it('writes the last use at most once a minute', async () => {
      const client = await service.createClient({ offlineIdleTimeoutSeconds: 3600 });
      const grant = await grants.insertActiveGrant({ clientId: client.clientId, createdAt: clock.now() });
      const { refresh_token: refreshToken } = await service.issueOfflineToken(grant.grantId);
      await service.flushLastUses();
      const lastUsed = async () =>
        ((await grants.query('SELECT last_used_at FROM grant_last_used WHERE grant_id = $1', [grant.grantId]))[0]?.last_used_at as Date).getTime();
      const afterIssue = await lastUsed();

      clock.advance(20_000);
      expect((await service.refresh(client, refreshToken)).status).toBe(200);
      await service.flushLastUses();
      expect(await lastUsed()).toBe(afterIssue);

      clock.advance(50_000);
      expect((await service.refresh(client, refreshToken)).status).toBe(200);
      await service.flushLastUses();
      expect(await lastUsed()).toBeGreaterThanOrEqual(afterIssue + 70_000);
    });
  });

  describe('when the client sets a maximum lifetime', () => {
    it('puts exp on the refresh token, caps access tokens, then refuses and revokes', async () => {
      const client = await service.createClient({ offlineMaxLifetimeSeconds: 7 * 86_400, accessTokenLifetimeSeconds: 3600 });
      const createdAt = clock.now();
      const grant = await grants.insertActiveGrant({ clientId: client.clientId, createdAt });
      const issued = await service.issueOfflineToken(grant.grantId);
      expect(decodeJwt(issued.refresh_token).exp).toBe(Math.floor((createdAt.getTime() + 7 * day) / 1000));

      clock.advance(7 * day - 10 * minute);
      const late = await service.refresh(client, issued.refresh_token);
      expect(late.status).toBe(200);
      const lateBody = (await late.json()) as { expires_in: number; access_token: string };
      // The access token ends with the grant, ten minutes from now, not after its usual hour.
      expect(lateBody.expires_in).toBeLessThanOrEqual(600);
      expect(decodeJwt(lateBody.access_token).exp).toBe(Math.floor((createdAt.getTime() + 7 * day) / 1000));

      clock.advance(11 * minute);
      await expectExpiredAndRevoked(await service.refresh(client, issued.refresh_token), grant.grantId);
      expect(await service.introspect(client, issued.refresh_token)).toEqual({ active: false });
    });

    it('refuses to issue for a grant past its lifetime and revokes it', async () => {
      const client = await service.createClient({ offlineMaxLifetimeSeconds: 3600 });
      const grant = await grants.insertActiveGrant({ clientId: client.clientId, createdAt: new Date(clock.now().getTime() - 2 * hour) });
      const response = await service.requestOfflineToken({ grant_id: grant.grantId });
      expect(response.status).toBe(409);
      expect(await response.json()).toMatchObject({ code: 'token.max_lifetime_exceeded' });
      expect(await grants.row(grant.grantId)).toEqual({ status: 'revoked', revoke_reason: 'expired' });
    });
  });

  describe('when the client sets no limit', () => {
    it('keeps refreshing after a year without use', async () => {
      const client = await service.createClient();
      const grant = await grants.insertActiveGrant({ clientId: client.clientId, createdAt: clock.now() });
      const issued = await service.issueOfflineToken(grant.grantId);
      clock.advance(400 * day);
      expect((await service.refresh(client, issued.refresh_token)).status).toBe(200);
    });
  });
});
