import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';

import { loadGrantServiceConfig } from '../../apps/grant-service/src/config/grant-service.config.js';
import { GrantServiceModule } from '../../apps/grant-service/src/grant-service.module.js';
import { GrantEventRelay } from '../../apps/grant-service/src/relay/grant-event-relay.js';
import { decodeGrantEvent } from '#grant-events/grant-event-codec.js';
import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';
import { grantEventSource } from '#grant-events/grant-events-topic.js';
import type { StartedHttpApp } from '#platform/start-http-app.js';
import { startTestApp, testEnvironment } from '#testing/test-apps.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';
import { uniqueName } from '#testing/test-kafka.js';
import { waitFor } from '#testing/wait-for.js';

import { GrantStreams, heldOpenStore, openDataSource } from './grant-streams.js';
import { kafkaClient, type ReadMessage, TopicReader, waitForTopic } from './topic-reader.js';

function startGrantService(databaseUrl: string, topic: string, extra: Record<string, string> = {}): Promise<StartedHttpApp> {
  const environment = testEnvironment(databaseUrl, { GRANT_EVENTS_TOPIC: topic, RELAY_LEADER_RETRY_MS: '200', ...extra });
  return startTestApp('grant-service', GrantServiceModule.forRoot(loadGrantServiceConfig(environment)));
}

function eventIds(events: readonly RecordedGrantEvent[]): string[] {
  return events.map((recorded) => recorded.eventId);
}

/** Counts how often each event id occurs among `messages`. */
function occurrences(messages: readonly ReadMessage[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of messages) counts.set(message.headers.ce_id, (counts.get(message.headers.ce_id) ?? 0) + 1);
  return counts;
}

describe('when the relay publishes a grant lifecycle', () => {
  const topic = uniqueName('relay-lifecycle');
  let database: TestDatabase;
  let dataSource: DataSource;
  let service: StartedHttpApp;
  let reader: TopicReader;

  beforeAll(async () => {
    database = await createTestDatabase('relay_lifecycle');
    dataSource = await openDataSource(database.url);
    service = await startGrantService(database.url, topic);
    await waitForTopic(topic);
    reader = await TopicReader.start(topic);
  });

  afterAll(async () => {
    await reader?.stop();
    await service?.app.close();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('publishes keyed CloudEvents in stream order', async () => {
    const streams = GrantStreams.over(dataSource);
    const grantId = randomUUID();
    const recorded = [
      ...(await streams.create(grantId, ['openid', 'offline_access'])),
      ...(await streams.changeScopes(grantId, ['openid', 'offline_access', 'profile'])),
      ...(await streams.revoke(grantId)),
    ];

    const messages = await reader.waitForEvents(eventIds(recorded));

    expect(messages.map((message) => message.headers.ce_id)).toEqual(eventIds(recorded));
    expect(new Set(messages.map((message) => message.partition)).size).toBe(1);
    for (const [index, message] of messages.entries()) {
      expect(message.key).toBe(grantId);
      expect(message.headers).toMatchObject({
        ce_specversion: '1.0',
        ce_id: recorded[index].eventId,
        ce_source: grantEventSource,
        ce_subject: grantId,
        ce_time: recorded[index].recordedAt.toISOString(),
        'content-type': 'application/json',
      });
      const decoded = decodeGrantEvent(message.raw);
      expect(decoded.event).toEqual(recorded[index].event);
      expect(decoded.version).toBe(index + 1);
      expect(decoded.position).toBe(recorded[index].position);
    }
    expect(messages.map((message) => message.headers.ce_type)).toEqual([
      'dev.offline-grants.grant.created.v1',
      'dev.offline-grants.grant.scopes_changed.v1',
      'dev.offline-grants.grant.revoked.v1',
    ]);
  });

  it('creates the topic with infinite retention', async () => {
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: topic, configNames: ['retention.ms'] }],
      });
      expect(resources[0].configEntries.find((entry) => entry.configName === 'retention.ms')?.configValue).toBe('-1');
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(metadata.topics[0].partitions).toHaveLength(3);
    } finally {
      await admin.disconnect();
    }
  });

  it('advances the checkpoint after publishing', async () => {
    const streams = GrantStreams.over(dataSource);
    const recorded = await streams.create();
    await reader.waitForEvents(eventIds(recorded));

    const checkpoint = await waitFor(async () => {
      const rows: Array<{ position: string }> = await dataSource.query('SELECT position::text AS position FROM relay_checkpoints WHERE relay_name = $1', [
        topic,
      ]);
      return rows[0]?.position === recorded[0].position.toString() ? rows[0] : undefined;
    });
    expect(checkpoint.position).toBe(recorded[0].position.toString());
  });

  it('exposes publish and leader metrics', async () => {
    const text = await (await fetch(`${service.url}/metrics`)).text();

    expect(text).toMatch(/^grant_relay_events_published_total \d+/m);
    expect(text).toMatch(/^grant_relay_leader 1$/m);
    expect(text).toMatch(/^grant_relay_lag_seconds [\d.e-]+$/m);
  });
});

describe('when many transactions append concurrently', () => {
  const topic = uniqueName('relay-concurrent');
  let database: TestDatabase;
  let dataSource: DataSource;
  let service: StartedHttpApp;
  let reader: TopicReader;

  beforeAll(async () => {
    database = await createTestDatabase('relay_concurrent');
    dataSource = await openDataSource(database.url, 24);
    service = await startGrantService(database.url, topic, { RELAY_BATCH_SIZE: '50', RELAY_POLL_INTERVAL_MS: '5' });
    await waitForTopic(topic);
    reader = await TopicReader.start(topic);
  });

  afterAll(async () => {
    await reader?.stop();
    await service?.app.close();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('publishes every event once, in order', async () => {
    const streams = GrantStreams.over(dataSource);
    const grantIds: string[] = Array.from({ length: 200 }, () => randomUUID());
    const recorded: RecordedGrantEvent[] = [];

    // Eight grants are created in transactions that stay open while the others commit: those
    // events take lower positions than events that commit before them.
    const heldTransactions = grantIds.slice(0, 8).map((grantId) => {
      const { store, release } = heldOpenStore(dataSource);
      const appended = GrantStreams.over(dataSource);
      const created = new GrantStreams(store).create(grantId).then(async (events) => {
        recorded.push(...events);
        recorded.push(...(await appended.changeScopes(grantId, ['offline_access'])));
        recorded.push(...(await appended.revoke(grantId)));
      });
      return { release, created };
    });
    await waitFor(async () => {
      const rows: Array<{ count: string }> = await dataSource.query(
        "SELECT count(*) AS count FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'",
      );
      return Number(rows[0].count) === heldTransactions.length;
    });

    const committedWhileHeld: bigint[] = [];
    const others = grantIds.slice(8);
    const workers = Array.from({ length: 12 }, async (_, worker) => {
      for (let index = worker; index < others.length; index += 12) {
        const grantId = others[index];
        const created = await streams.create(grantId);
        if (index < others.length / 2) committedWhileHeld.push(created[0].position);
        recorded.push(...created);
        recorded.push(...(await streams.changeScopes(grantId, ['offline_access', 'profile'])));
        if (index % 2 === 0) recorded.push(...(await streams.revoke(grantId)));
        if (index === Math.floor(others.length / 2)) heldTransactions.slice(0, 4).forEach((transaction) => transaction.release());
      }
    });
    await Promise.all(workers);
    heldTransactions.forEach((transaction) => transaction.release());
    await Promise.all(heldTransactions.map((transaction) => transaction.created));

    const messages = await reader.waitForEvents(eventIds(recorded), 60_000);

    const heldPositions = recorded.filter((event) => grantIds.slice(0, 8).includes(event.grantId) && event.version === 1);
    // The scenario holds: the held events took positions below events that committed before them.
    expect(heldPositions.every((event) => committedWhileHeld.some((position) => position > event.position))).toBe(true);
    expect(recorded.length).toBe(8 * 3 + 192 * 2 + 96);
    expect(messages).toHaveLength(recorded.length);
    expect([...occurrences(messages).values()].every((count) => count === 1)).toBe(true);
    const versionsByGrant = new Map<string, number[]>();
    for (const message of messages) {
      const decoded = decodeGrantEvent(message.raw);
      versionsByGrant.set(decoded.subject, [...(versionsByGrant.get(decoded.subject) ?? []), decoded.version]);
    }
    expect(versionsByGrant.size).toBe(200);
    for (const versions of versionsByGrant.values()) {
      expect(versions).toEqual(versions.map((_, index) => index + 1));
    }
  }, 120_000);
});

describe('when two relays share a database', () => {
  const topic = uniqueName('relay-leader');
  let database: TestDatabase;
  let dataSource: DataSource;
  let first: StartedHttpApp | undefined;
  let second: StartedHttpApp | undefined;
  let reader: TopicReader;

  beforeAll(async () => {
    database = await createTestDatabase('relay_leader');
    dataSource = await openDataSource(database.url);
    first = await startGrantService(database.url, topic);
    await waitFor(() => first!.app.get(GrantEventRelay).isLeader, { description: 'the first relay to lead' });
    second = await startGrantService(database.url, topic);
    await waitForTopic(topic);
    reader = await TopicReader.start(topic);
  });

  afterAll(async () => {
    await reader?.stop();
    await first?.app.close();
    await second?.app.close();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('publishes from the leader only', async () => {
    const streams = GrantStreams.over(dataSource);
    const recorded: RecordedGrantEvent[] = [];
    for (let index = 0; index < 20; index += 1) recorded.push(...(await streams.create()));

    const messages = await reader.waitForEvents(eventIds(recorded));

    expect(messages).toHaveLength(20);
    expect(first!.app.get(GrantEventRelay).publishedEventCount).toBe(20);
    expect(second!.app.get(GrantEventRelay).publishedEventCount).toBe(0);
    expect(second!.app.get(GrantEventRelay).isLeader).toBe(false);
  });

  it('hands over when the leader stops', async () => {
    await first!.app.close();
    first = undefined;
    const standby = second!.app.get(GrantEventRelay);
    await waitFor(() => standby.isLeader, { description: 'the second relay to take the lock' });

    const streams = GrantStreams.over(dataSource);
    const recorded: RecordedGrantEvent[] = [];
    for (let index = 0; index < 20; index += 1) recorded.push(...(await streams.create()));

    const messages = await reader.waitForEvents(eventIds(recorded));

    expect(messages).toHaveLength(20);
    expect(standby.publishedEventCount).toBe(20);
    expect(reader.messages).toHaveLength(40);
  });

  it('retakes the lock after losing its connection', async () => {
    const relay = second!.app.get(GrantEventRelay);
    const terminated: Array<{ terminated: boolean }> = await dataSource.query(
      `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'grant-service-relay-lock'`,
    );
    expect(terminated).toEqual([{ terminated: true }]);

    const recorded = await GrantStreams.over(dataSource).create();
    const messages = await reader.waitForEvents(eventIds(recorded));

    expect(messages).toHaveLength(1);
    expect(relay.isLeader).toBe(true);
  });
});
