import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';

import { loadGrantServiceConfig } from '../../apps/grant-service/src/config/grant-service.config.js';
import { GrantServiceModule } from '../../apps/grant-service/src/grant-service.module.js';
import type { ReplacementPhase } from '../../apps/grant-projector/src/replay/projection-replacement.js';
import { TopicReplayError } from '../../apps/grant-projector/src/replay/topic-replay-source.js';
import { replayProjectionFromTopic } from '../../apps/grant-projector/src/replay/topic-replay.js';
import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';
import { GrantEventStore } from '#persistence/grant-event-store.js';
import type { StartedHttpApp } from '#platform/start-http-app.js';
import { startTestApp, testEnvironment } from '#testing/test-apps.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';
import { createTestTopic, testKafkaBrokers, testKafkaClient, uniqueName } from '#testing/test-kafka.js';
import { waitFor } from '#testing/wait-for.js';

import { messageCount, produce, projectorNames, startProjector } from '../projector/projector-kit.js';
import { openDataSource } from '../relay/grant-streams.js';
import { waitForTopic } from '../relay/topic-reader.js';
import {
  activeGrantIds,
  appendGrantMix,
  appendSomeChanges,
  projectionCaughtUp,
  projectionRows,
  projectionTableShape,
  rowsFoldedFromStore,
  tableExists,
} from './replay-kit.js';

const catchUpTimeout = { timeoutMs: 90_000, description: 'the live projection to reach every event of the store' };

describe('when the projection is replayed from the topic', () => {
  const names = projectorNames('topic-replay');
  let database: TestDatabase;
  let dataSource: DataSource;
  let service: StartedHttpApp;
  let projector: StartedHttpApp;

  beforeAll(async () => {
    database = await createTestDatabase('topic_replay');
    dataSource = await openDataSource(database.url);
    service = await startTestApp('grant-service', GrantServiceModule.forRoot(loadGrantServiceConfig(testEnvironment(database.url, { GRANT_EVENTS_TOPIC: names.topic }))));
    await waitForTopic(names.topic);
    projector = await startProjector(database.url, names);
    await appendGrantMix(dataSource, 30);
    await waitFor(() => projectionCaughtUp(dataSource), catchUpTimeout);
  });

  afterAll(async () => {
    await projector?.app.close();
    await service?.app.close();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('produces the same rows as the live projection', async () => {
    const liveRows = await projectionRows(dataSource);
    const shapeBefore = await projectionTableShape(dataSource);
    const published = await messageCount(names.topic);

    const result = await replayProjectionFromTopic(dataSource, { brokers: testKafkaBrokers(), topic: names.topic, pageSize: 10 });

    expect(await projectionRows(dataSource)).toEqual(liveRows);
    expect(result).toMatchObject({ source: 'topic', rows: liveRows.length, swapAttempts: 1 });
    // The relay publishes at least once, so the topic may hold a few redelivered copies.
    expect(result.events).toBeGreaterThanOrEqual(published);
    expect(await projectionTableShape(dataSource)).toEqual(shapeBefore);
    expect(await tableExists(dataSource, 'grants_rebuild')).toBe(false);
  });

  it('keeps every event appended during the replay', async () => {
    const actives = await activeGrantIds(dataSource);
    const appendDuring = async (_phase: ReplacementPhase) => {
      await appendSomeChanges(dataSource, actives);
    };

    await replayProjectionFromTopic(dataSource, { brokers: testKafkaBrokers(), topic: names.topic, pageSize: 10, onPhase: appendDuring });

    await waitFor(() => projectionCaughtUp(dataSource), catchUpTimeout);
    expect(await projectionRows(dataSource)).toEqual(await rowsFoldedFromStore(dataSource));
    expect(await messageCount(names.deadLetterTopic)).toBe(0);
  });

  it('skips redelivered and undecodable messages and fills versions the topic lacks', async () => {
    await waitFor(() => projectionCaughtUp(dataSource), catchUpTimeout);
    const topic = uniqueName('topic-replay-uneven');
    await createTestTopic(topic, 2);
    const events = await allEvents(dataSource);
    const skipped = events.find((recorded) => recorded.version === 2 && events.some((later) => later.grantId === recorded.grantId && later.version === 3))!;
    const uneven = events.filter((recorded) => recorded !== skipped);
    await produce(topic, [
      ...uneven,
      // A copy of an earlier message, as a producer retry leaves it.
      uneven[0],
      { key: randomUUID(), value: '{"not": "a grant event"}', headers: { 'content-type': 'application/json' } },
    ]);

    const result = await replayProjectionFromTopic(dataSource, { brokers: testKafkaBrokers(), topic });

    expect(await projectionRows(dataSource)).toEqual(await rowsFoldedFromStore(dataSource));
    expect(result.events).toBe(uneven.length + 2);
    expect(result.progress.gapFilled).toBe(1);
    expect(result.progress.duplicates).toBe(1);
  });

  it('refuses a topic whose earliest events were deleted', async () => {
    const topic = uniqueName('topic-replay-truncated');
    await createTestTopic(topic, 1);
    const events = await allEvents(dataSource);
    await produce(topic, events.slice(0, 3));
    const admin = testKafkaClient().admin();
    await admin.connect();
    try {
      // deleteTopicRecords finds the partition leaders in the admin's metadata, which loads topics on request.
      await admin.fetchTopicMetadata({ topics: [topic] });
      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '1' }] });
    } finally {
      await admin.disconnect();
    }
    const rowsBefore = await projectionRows(dataSource);

    const failure = await replayProjectionFromTopic(dataSource, { brokers: testKafkaBrokers(), topic }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(TopicReplayError);
    expect((failure as Error).message).toContain(`partition 0 of topic ${topic} starts at offset 1`);
    expect(await projectionRows(dataSource)).toEqual(rowsBefore);
    expect(await tableExists(dataSource, 'grants_rebuild')).toBe(false);
  });
});

/** Reads every event of the store in position order. */
async function allEvents(dataSource: DataSource): Promise<RecordedGrantEvent[]> {
  return new GrantEventStore(dataSource).readAllAfter(0n, 100_000);
}
