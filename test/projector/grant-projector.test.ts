import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';

import { decide } from '#grant-domain/grant.decider.js';
import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';
import type { StartedHttpApp } from '#platform/start-http-app.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';
import { createTestTopic } from '#testing/test-kafka.js';
import { waitFor } from '#testing/wait-for.js';

import { GrantStreams, openDataSource } from '../relay/grant-streams.js';
import { TopicReader } from '../relay/topic-reader.js';
import { committedToEnd, grantRow, messageCount, produce, projectorNames, rowAtVersion, startProjector } from './projector-kit.js';
import { TcpProxy } from './tcp-proxy.js';

/** A revocation at version 2 of a grant that the event store has never seen. */
function unrecordedRevocation(grantId: string): RecordedGrantEvent {
  const now = new Date();
  const [event] = decide(
    { type: 'RevokeGrant', grantId, reason: 'admin', actor: { type: 'admin', id: 'admin-1' }, now },
    { status: 'active', grantId, userId: 'user-unknown', clientId: 'client-unknown', scopes: ['openid'], createdAt: now.toISOString() },
  );
  return { position: 999_999n, eventId: randomUUID(), grantId, version: 2, event, metadata: {}, recordedAt: now };
}

describe('when messages arrive duplicated, out of order or unreadable', () => {
  const names = projectorNames('projector-policy');
  let database: TestDatabase;
  let dataSource: DataSource;
  let projector: StartedHttpApp;
  let deadLetters: TopicReader;

  beforeAll(async () => {
    database = await createTestDatabase('projector_policy');
    dataSource = await openDataSource(database.url);
    await createTestTopic(names.topic);
    projector = await startProjector(database.url, names, { PROJECTOR_MAX_ATTEMPTS: '3' });
    await waitFor(async () => (await messageCount(names.deadLetterTopic).catch(() => undefined)) === 0, {
      description: 'the projector to create its dead-letter topic',
    });
    deadLetters = await TopicReader.start(names.deadLetterTopic);
  });

  afterAll(async () => {
    await deadLetters?.stop();
    await projector?.app.close();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('skips duplicates and fills gaps', async () => {
    const streams = GrantStreams.over(dataSource);
    const grantId = randomUUID();
    const [created] = await streams.create(grantId, ['openid']);
    const [changed] = await streams.changeScopes(grantId, ['openid', 'profile']);
    const [revoked] = await streams.revoke(grantId);

    await produce(names.topic, [created, created, revoked]);

    const row = await waitFor(rowAtVersion(dataSource, grantId, 3));
    expect(row.status).toBe('revoked');
    expect(row.scopes).toEqual(['openid', 'profile']);
    expect(row.revoke_reason).toBe('user');
    expect(row.revoked_at?.toISOString()).toBe((revoked.event.data as { occurredAt: string }).occurredAt);
    expect(row.created_at.toISOString()).toBe(created.event.data.occurredAt);
    expect(row.position).toBe(revoked.position.toString());
    expect(changed.version).toBe(2);
    await waitFor(() => committedToEnd(names.topic, names.groupId), { description: 'offsets committed to the end' });
  });

  it('parks unreadable messages and continues', async () => {
    const streams = GrantStreams.over(dataSource);
    const grantId = randomUUID();
    const [created] = await streams.create(grantId, ['openid']);
    const [changed] = await streams.changeScopes(grantId, ['email', 'openid']);
    const poison = { key: grantId, value: '{"not":"a grant event"', headers: { ce_specversion: '1.0', ce_id: 'poison-1' } };

    await produce(names.topic, [created, poison, changed]);

    const row = await waitFor(rowAtVersion(dataSource, grantId, 2));
    expect(row.status).toBe('active');
    expect(row.scopes).toEqual(['email', 'openid']);

    const [parked] = await waitFor(() => {
      const found = deadLetters.messages.filter((message) => message.headers.ce_id === 'poison-1');
      return found.length > 0 ? found : undefined;
    });
    expect(parked.key).toBe(grantId);
    expect(parked.value).toBe(poison.value);
    expect(parked.headers.ce_specversion).toBe('1.0');
    expect(parked.headers.dlq_original_topic).toBe(names.topic);
    expect(parked.headers.dlq_original_partition).toMatch(/^\d+$/);
    expect(parked.headers.dlq_original_offset).toMatch(/^\d+$/);
    expect(parked.headers.dlq_consumer_group).toBe(names.groupId);
    expect(parked.headers.dlq_error).toContain('GrantEventDecodeError');
    await waitFor(() => committedToEnd(names.topic, names.groupId), { description: 'offsets committed past the parked message' });
  });

  it('parks repeatedly failing messages', async () => {
    const unknownGrantId = randomUUID();
    const orphan = unrecordedRevocation(unknownGrantId);
    const streams = GrantStreams.over(dataSource);
    const laterGrantId = randomUUID();
    const [later] = await streams.create(laterGrantId);
    // One partition for both, so the later event waits behind the failing one.
    await produce(names.topic, [orphan, later], { partition: 0 });

    const [parked] = await waitFor(() => {
      const found = deadLetters.messages.filter((message) => message.headers.ce_id === orphan.eventId);
      return found.length > 0 ? found : undefined;
    });
    expect(parked.headers.dlq_attempts).toBe('3');
    expect(parked.headers.dlq_error).toContain('ProjectionGapError');
    expect(parked.headers.dlq_error).toContain(unknownGrantId);
    expect(await grantRow(dataSource, unknownGrantId)).toBeUndefined();
    expect(await waitFor(rowAtVersion(dataSource, laterGrantId, 1))).toMatchObject({ status: 'active' });
    await waitFor(() => committedToEnd(names.topic, names.groupId), { description: 'offsets committed past the failing message' });
  });

  it('reports lag in readiness', async () => {
    const response = await fetch(`${projector.url}/health/ready`);
    const body = (await response.json()) as { details: { projection: { status: string; consumer: string; lagMessages: number } } };

    expect(response.status).toBe(200);
    expect(body.details.projection.status).toBe('up');
    expect(body.details.projection.consumer).toBe('running');
    expect(body.details.projection.lagMessages).toBe(0);
  });

  it('counts outcomes in metrics', async () => {
    const text = await (await fetch(`${projector.url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1]);

    expect(value('grant_projector_events_applied_total')).toBeGreaterThanOrEqual(4);
    expect(value('grant_projector_duplicates_skipped_total')).toBeGreaterThanOrEqual(1);
    expect(value('grant_projector_gap_events_filled_total')).toBeGreaterThanOrEqual(1);
    expect(value('grant_projector_messages_parked_total')).toBeGreaterThanOrEqual(2);
  });
});

describe('when a revocation arrives before its creation', () => {
  const names = projectorNames('projector-reorder');
  let database: TestDatabase;
  let dataSource: DataSource;
  let projector: StartedHttpApp;

  beforeAll(async () => {
    database = await createTestDatabase('projector_reorder');
    dataSource = await openDataSource(database.url);
    await createTestTopic(names.topic);
    projector = await startProjector(database.url, names);
  });

  afterAll(async () => {
    await projector?.app.close();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('leaves the grant revoked', async () => {
    const streams = GrantStreams.over(dataSource);
    const grantId = randomUUID();
    const [created] = await streams.create(grantId);
    const [revoked] = await streams.revoke(grantId);

    await produce(names.topic, [revoked]);
    const afterRevocation = await waitFor(rowAtVersion(dataSource, grantId, 2));
    await produce(names.topic, [created]);
    await waitFor(() => committedToEnd(names.topic, names.groupId), { description: 'the late creation to be consumed' });

    expect(afterRevocation.status).toBe('revoked');
    const row = await grantRow(dataSource, grantId);
    expect(row?.status).toBe('revoked');
    expect(row?.version).toBe(2);
    expect(row?.revoke_reason).toBe('user');
  });
});

describe('when the projection database is unreachable', () => {
  const names = projectorNames('projector-outage');
  let database: TestDatabase;
  let dataSource: DataSource;
  let proxy: TcpProxy;
  let projector: StartedHttpApp;

  beforeAll(async () => {
    database = await createTestDatabase('projector_outage');
    dataSource = await openDataSource(database.url);
    await createTestTopic(names.topic);
    const direct = new URL(database.url);
    proxy = await TcpProxy.start(Number(direct.port || 5432));
    direct.port = String(proxy.port);
    // One attempt only: a database outage mistaken for a failing message would be parked at once.
    projector = await startProjector(direct.toString(), names, { PROJECTOR_MAX_ATTEMPTS: '1' });
  });

  afterAll(async () => {
    await projector?.app.close();
    await proxy?.close();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('waits instead of parking', async () => {
    const streams = GrantStreams.over(dataSource);
    const grantIds = [randomUUID(), randomUUID(), randomUUID()];
    const recorded = (await Promise.all(grantIds.map((grantId) => streams.create(grantId)))).flat();
    recorded.push(...(await streams.revoke(grantIds[0])));

    proxy.cut();
    await produce(names.topic, recorded);
    await waitFor(() => proxy.refusedConnections >= 3, { description: 'the projector to retry the database' });
    proxy.restore();

    for (const grantId of grantIds) await waitFor(rowAtVersion(dataSource, grantId, 1), { timeoutMs: 30_000 });
    expect((await grantRow(dataSource, grantIds[0]))?.status).toBe('revoked');
    await waitFor(() => committedToEnd(names.topic, names.groupId), { description: 'offsets committed after the outage' });
    expect(await messageCount(names.deadLetterTopic)).toBe(0);
  });
});
