import type { Message } from 'kafkajs';
import { randomUUID } from 'node:crypto';

import { TOKEN_SERVICE_CONFIG, type TokenServiceConfig } from '../../apps/token-service/src/config/token-service.config.js';
import { ActiveGrants } from '../../apps/token-service/src/grants/active-grants.js';
import { TokenServiceModule } from '../../apps/token-service/src/token-service.module.js';
import { encodeGrantEvent } from '#grant-events/grant-event-codec.js';
import { startHttpApp, type StartedHttpApp } from '#platform/start-http-app.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';
import { createTestTopic, testKafkaClient, uniqueName } from '#testing/test-kafka.js';
import { waitFor } from '#testing/wait-for.js';

import { FullStack } from '../support/full-stack.js';
import { GrantServiceStandIn } from './support/grant-service-stand-in.js';
import { type GrantFixture, GrantProjectionFixtures, TokenServiceUnderTest } from './support/token-service-harness.js';

type Credentials = { clientId: string; clientSecret: string };

/**
 * Publishes a GrantRevoked for `grant` to `topic` as the relay would, without touching the
 * projection. `before` messages go first, in the same partition.
 */
async function publishRevocation(topic: string, grant: GrantFixture, version: number, before: Message[] = []): Promise<void> {
  const producer = testKafkaClient().producer();
  await producer.connect();
  try {
    const message = encodeGrantEvent({
      position: 9_000_000n + BigInt(version),
      eventId: randomUUID(),
      grantId: grant.grantId,
      version,
      event: {
        type: 'GrantRevoked',
        data: {
          grantId: grant.grantId,
          userId: grant.userId,
          clientId: grant.clientId,
          actor: { type: 'user', id: grant.userId },
          occurredAt: new Date().toISOString(),
          scopes: [...grant.scopes].sort(),
          reason: 'user',
        },
      },
      metadata: {},
      recordedAt: new Date(),
    });
    await producer.send({ topic, messages: [...before.map((earlier) => ({ ...earlier, key: grant.grantId })), message] });
  } finally {
    await producer.disconnect();
  }
}

async function expectRejected(response: Response, grantId: string): Promise<void> {
  expect(response.status).toBe(400);
  expect(await response.json()).toEqual({ error: 'invalid_grant', error_description: `grant ${grantId} of the refresh token is revoked` });
}

describe('when a token service keeps the grant state in memory', () => {
  let database: TestDatabase;
  let standIn: GrantServiceStandIn;
  let service: TokenServiceUnderTest;
  let grants: GrantProjectionFixtures;
  let client: Credentials;

  beforeAll(async () => {
    database = await createTestDatabase('token_grant_state');
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

  it('rejects refresh after a Kafka revocation', async () => {
    const grant = await grants.insertActiveGrant({ clientId: client.clientId });
    const { refresh_token: refreshToken } = await service.issueOfflineToken(grant.grantId);
    expect((await service.refresh(client, refreshToken)).status).toBe(200);
    const readsBefore = service.grantState.databaseReads;

    // Only the event is published. The projection row stays active, so a rejection can only come
    // from memory, and no lookup reads the projection.
    await publishRevocation(service.config.GRANT_EVENTS_TOPIC, grant, 2);
    await waitFor(() => service.grantState.knownVersion(grant.grantId) === 2, { intervalMs: 10, description: 'the revocation in memory' });

    await expectRejected(await service.refresh(client, refreshToken), grant.grantId);
    expect(await service.introspect(client, refreshToken)).toEqual({ active: false });
    expect(await grants.row(grant.grantId)).toEqual({ status: 'active', revoke_reason: null });
    expect(service.grantState.databaseReads).toBe(readsBefore);
  });

  it('skips invalid messages and continues', async () => {
    const grant = await grants.insertActiveGrant({ clientId: client.clientId });
    const { refresh_token: refreshToken } = await service.issueOfflineToken(grant.grantId);
    // Valid for the event schema, whose uuid format admits a urn:uuid: prefix, but no grant id here.
    const urnGrant = { ...grant, grantId: `urn:uuid:${randomUUID()}` };
    const urnEvent = encodeGrantEvent({
      position: 8_000_000n,
      eventId: randomUUID(),
      grantId: urnGrant.grantId,
      version: 1,
      event: {
        type: 'GrantCreated',
        data: { grantId: urnGrant.grantId, userId: grant.userId, clientId: grant.clientId, actor: { type: 'system', id: 'test' }, occurredAt: new Date().toISOString(), scopes: ['openid'] },
      },
      metadata: {},
      recordedAt: new Date(),
    });

    await publishRevocation(service.config.GRANT_EVENTS_TOPIC, grant, 2, [{ value: 'not json' }, urnEvent]);
    await waitFor(() => service.grantState.knownVersion(grant.grantId) === 2, { intervalMs: 10, description: 'the revocation after the invalid messages' });

    await expectRejected(await service.refresh(client, refreshToken), grant.grantId);
    expect(service.grantState.knownVersion(urnGrant.grantId)).toBeUndefined();
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/token_service_grant_state_events_total\{outcome="invalid"\} [2-9]/);
  });

  it('reads an unknown grant once', async () => {
    const unpublished = new GrantProjectionFixtures(database.url);
    const grant = await unpublished.insertActiveGrant({ clientId: client.clientId });
    const { refresh_token: refreshToken } = await service.issueOfflineToken(grant.grantId);
    const readsBefore = service.grantState.databaseReads;

    expect((await service.refresh(client, refreshToken)).status).toBe(200);
    expect((await service.refresh(client, refreshToken)).status).toBe(200);
    expect(service.grantState.databaseReads).toBe(readsBefore + 1);
    expect(service.grantState.knownVersion(grant.grantId)).toBe(1);
  });

  it('rejects a grant it revoked itself', async () => {
    // Without followers the stand-in's revocation reaches the projection row only, never Kafka.
    const unpublished = new GrantProjectionFixtures(database.url);
    const grant = await unpublished.insertActiveGrant({ clientId: client.clientId });
    const { refresh_token: refreshToken } = await service.issueOfflineToken(grant.grantId);
    expect((await service.refresh(client, refreshToken)).status).toBe(200);
    expect(service.grantState.knownVersion(grant.grantId)).toBe(1);

    standIn.failWithStatus = 500;
    try {
      expect((await service.postForm('/oauth/revoke', { token: refreshToken }, client)).status).toBe(503);
    } finally {
      standIn.failWithStatus = undefined;
    }
    expect((await service.refresh(client, refreshToken)).status).toBe(200);

    expect((await service.postForm('/oauth/revoke', { token: refreshToken }, client)).status).toBe(200);
    await expectRejected(await service.refresh(client, refreshToken), grant.grantId);
    expect(service.grantState.knownVersion(grant.grantId)).toBe(1);
  });
});

describe('when a token service starts after grants exist', () => {
  let database: TestDatabase;
  let first: TokenServiceUnderTest;
  let late: TokenServiceUnderTest | undefined;
  const topic = uniqueName('token-state-events');
  const projectorGroupId = uniqueName('token-state-projector');

  beforeAll(async () => {
    database = await createTestDatabase('token_state_start');
    await createTestTopic(topic, 3);
    first = await TokenServiceUnderTest.start({
      databaseUrl: database.url,
      environment: { GRANT_EVENTS_TOPIC: topic, GRANT_PROJECTOR_GROUP_ID: projectorGroupId },
    });
  });

  afterAll(async () => {
    await late?.close();
    await first?.close();
    await database?.drop();
  });

  it('loads rows, then applies newer events', async () => {
    const client = await first.createClient();
    const grants = new GrantProjectionFixtures(database.url, first);
    const activeGrant = await grants.insertActiveGrant({ clientId: client.clientId });
    const revoked = await grants.insertActiveGrant({ clientId: client.clientId });
    const { refresh_token: activeToken } = await first.issueOfflineToken(activeGrant.grantId);
    const { refresh_token: revokedToken } = await first.issueOfflineToken(revoked.grantId);
    // The stand-in projector stops here: the revocation below stays past its committed offset
    // and out of the projection, as with a projector that is behind.
    await grants.close();
    await publishRevocation(topic, revoked, 2);

    late = await TokenServiceUnderTest.start({
      databaseUrl: database.url,
      // The projector is left behind on purpose, so its lag must not turn the refreshes below into 503s.
      environment: { GRANT_EVENTS_TOPIC: topic, GRANT_PROJECTOR_GROUP_ID: projectorGroupId, TOKEN_MAX_PROJECTION_STALENESS_SECONDS: '3600' },
    });

    expect(late.grantState.status).toBe('ready');
    expect(late.grantState.knownVersion(activeGrant.grantId)).toBe(1);
    expect(late.grantState.knownVersion(revoked.grantId)).toBe(2);
    expect((await late.refresh(client, activeToken)).status).toBe(200);
    await expectRejected(await late.refresh(client, revokedToken), revoked.grantId);
    expect(late.grantState.databaseReads).toBe(0);
  });
});

describe('when two token services follow one grant service', () => {
  let stack: FullStack;
  let second: StartedHttpApp;
  let client: Credentials;

  beforeAll(async () => {
    stack = await FullStack.start('token_two_instances');
    // Same configuration, database and topic. Each instance makes its own consumer group.
    const config: TokenServiceConfig = stack.tokenService.app.get(TOKEN_SERVICE_CONFIG);
    second = await startHttpApp(TokenServiceModule.forRoot(config), { appName: 'token-service', host: '127.0.0.1', port: 0 });
    client = await stack.registerClient('two-instances');
  });

  afterAll(async () => {
    await second?.app.close();
    await stack?.stop();
  });

  function refreshOn(instance: StartedHttpApp, refreshToken: string): Promise<Response> {
    const credentials = Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64');
    return fetch(`${instance.url}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${credentials}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
    });
  }

  it('rejects the revoked grant on both', async () => {
    const instances = [stack.tokenService, second];
    expect(instances[0].app.get(ActiveGrants).groupId).not.toBe(instances[1].app.get(ActiveGrants).groupId);

    const created = await stack.callJson('grant', 'POST', '/v1/grants', 'grants:write', {
      user_id: uniqueName('user'),
      client_id: client.clientId,
      scopes: ['offline_access', 'openid'],
    });
    expect(created.status).toBe(201);
    const grantId = (created.body.grant as { grant_id: string }).grant_id;
    const issued = await stack.callJson('token', 'POST', '/v1/offline-tokens', 'tokens:issue', { grant_id: grantId, min_position: created.body.position });
    expect(issued.status).toBe(200);
    const refreshToken = issued.body.refresh_token as string;
    for (const instance of instances) {
      await waitFor(() => instance.app.get(ActiveGrants).knownVersion(grantId) === 1, { description: `the grant on ${instance.url}` });
      expect((await refreshOn(instance, refreshToken)).status).toBe(200);
    }

    const revoked = await stack.callJson('grant', 'DELETE', `/v1/grants/${grantId}`, 'grants:write');
    expect(revoked.status).toBe(200);

    for (const instance of instances) {
      await waitFor(() => instance.app.get(ActiveGrants).knownVersion(grantId) === 2, { description: `the revocation on ${instance.url}` });
      await expectRejected(await refreshOn(instance, refreshToken), grantId);
      expect(instance.app.get(ActiveGrants).databaseReads).toBe(0);
    }
  });
});
