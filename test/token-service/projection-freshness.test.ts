import { randomUUID } from 'node:crypto';

import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';
import { createTestTopic, testKafkaClient, uniqueName } from '#testing/test-kafka.js';

import { TestClock } from './support/test-clock.js';
import { freePort, GrantProjectionFixtures, TokenServiceUnderTest } from './support/token-service-harness.js';

interface Readiness {
  status: string;
  details: Record<string, { status: string; staleness_seconds?: number; relay_backlog_seconds?: number; projector_lag_messages?: number }>;
}

describe('when the grants projection falls behind', () => {
  let database: TestDatabase;
  let service: TokenServiceUnderTest;
  let grants: GrantProjectionFixtures;
  let client: { clientId: string; clientSecret: string };
  let refreshToken: string;
  const clock = new TestClock();
  const topic = uniqueName('token-freshness-events');
  const groupId = uniqueName('token-freshness-projector');

  beforeAll(async () => {
    database = await createTestDatabase('token_freshness');
    await createTestTopic(topic, 2);
    service = await TokenServiceUnderTest.start({
      databaseUrl: database.url,
      clock,
      environment: { GRANT_EVENTS_TOPIC: topic, GRANT_PROJECTOR_GROUP_ID: groupId, RELAY_NAME: 'test-relay' },
    });
    grants = new GrantProjectionFixtures(database.url);
    client = await service.createClient();
    const grant = await grants.insertActiveGrant({ clientId: client.clientId });
    ({ refresh_token: refreshToken } = await service.issueOfflineToken(grant.grantId));
  });

  afterAll(async () => {
    await service?.close();
    await database?.drop();
  });

  async function readiness(target = service): Promise<Readiness> {
    return (await (await fetch(`${target.url}/health/ready`)).json()) as Readiness;
  }

  async function expectRefusedAsStale(): Promise<void> {
    const refresh = await service.refresh(client, refreshToken);
    expect(refresh.status).toBe(503);
    expect(refresh.headers.get('retry-after')).toBe('1');
    expect(((await refresh.json()) as { error: string }).error).toBe('temporarily_unavailable');

    const grant = await grants.insertActiveGrant({ clientId: client.clientId });
    const issuance = await service.requestOfflineToken({ grant_id: grant.grantId });
    expect(issuance.status).toBe(503);
    expect(await issuance.json()).toMatchObject({ code: 'token.projection_stale' });
  }

  it('reports a fresh projection in readiness and metrics', async () => {
    await service.freshness.measureNow();
    const ready = await readiness();
    expect(ready.details.projection).toMatchObject({ status: 'up', relay_backlog_seconds: 0, projector_lag_messages: 0 });
    expect(await (await fetch(`${service.url}/metrics`)).text()).toMatch(/token_service_projection_staleness_seconds \d/);
  });

  it('refuses refresh and issuance while the relay has an old unpublished event', async () => {
    const recordedAt = new Date(clock.now().getTime() - 10_000);
    await grants.query(
      `INSERT INTO grant_events (event_id, grant_id, version, type, data, metadata, recorded_at)
       VALUES ($1, $2, 1, 'GrantCreated', '{}', '{}', $3)`,
      [randomUUID(), randomUUID(), recordedAt],
    );
    await service.freshness.measureNow();

    const ready = await readiness();
    expect(ready.details.projection.status).toBe('degraded');
    expect(ready.details.projection.relay_backlog_seconds).toBeGreaterThanOrEqual(10);
    await expectRefusedAsStale();

    // The relay publishes it: its checkpoint passes the event.
    await grants.query(
      `INSERT INTO relay_checkpoints (relay_name, transaction_id, position)
       SELECT 'test-relay', transaction_id, position FROM grant_events ORDER BY transaction_id DESC, position DESC LIMIT 1`,
    );
    await service.freshness.measureNow();
    expect((await readiness()).details.projection.status).toBe('up');
    expect((await service.refresh(client, refreshToken)).status).toBe(200);
  });

  it('refuses once the projector has left a message uncommitted for too long', async () => {
    const kafka = testKafkaClient();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'a', value: '{}' }, { key: 'b', value: '{}' }] });
    await producer.disconnect();

    await service.freshness.measureNow();
    expect((await readiness()).details.projection).toMatchObject({ status: 'up', projector_lag_messages: 2 });
    // Lag alone is normal; only its age counts.
    expect((await service.refresh(client, refreshToken)).status).toBe(200);

    clock.advance(6000);
    await service.freshness.measureNow();
    expect((await readiness()).details.projection.status).toBe('degraded');
    await expectRefusedAsStale();

    // The projector catches up: its group commits the end offsets.
    const admin = kafka.admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(topic);
      await admin.setOffsets({ groupId, topic, partitions: ends.map(({ partition, high }) => ({ partition, offset: high })) });
    } finally {
      await admin.disconnect();
    }
    await service.freshness.measureNow();
    expect((await readiness()).details.projection).toMatchObject({ status: 'up', projector_lag_messages: 0 });
    expect((await service.refresh(client, refreshToken)).status).toBe(200);
  });

  it('refuses to trust the projection when the broker cannot be asked', async () => {
    const closedPort = await freePort();
    const unreachable = await TokenServiceUnderTest.start({ databaseUrl: database.url, environment: { KAFKA_BROKERS: `127.0.0.1:${closedPort}` } });
    try {
      const otherClient = await unreachable.createClient();
      const grant = await grants.insertActiveGrant({ clientId: otherClient.clientId });
      const issued = await unreachable.requestOfflineToken({ grant_id: grant.grantId });
      expect(issued.status).toBe(503);
      expect(await issued.json()).toMatchObject({ code: 'token.projection_stale' });
      expect((await readiness(unreachable)).details.projection.status).toBe('degraded');
    } finally {
      await unreachable.close();
    }
  });
});
