import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';

import { loadGrantServiceConfig } from '../../apps/grant-service/src/config/grant-service.config.js';
import { GrantServiceModule } from '../../apps/grant-service/src/grant-service.module.js';
import { decodeGrantEvent } from '#grant-events/grant-event-codec.js';
import type { StartedHttpApp } from '#platform/start-http-app.js';
import { startTestApp, testEnvironment } from '#testing/test-apps.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';
import { waitFor } from '#testing/wait-for.js';

import { grantRow, projectorNames, rowAtVersion, startProjector } from '../projector/projector-kit.js';
import { GrantStreams, openDataSource } from './grant-streams.js';
import { TopicReader, waitForTopic } from './topic-reader.js';

const cloudEventsHeaders = ['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_subject', 'ce_time', 'content-type'];

describe('when a grant is created and revoked', () => {
  const names = projectorNames('relay-projection');
  let database: TestDatabase;
  let dataSource: DataSource;
  let service: StartedHttpApp;
  let projector: StartedHttpApp;
  let reader: TopicReader;

  beforeAll(async () => {
    database = await createTestDatabase('relay_projection');
    dataSource = await openDataSource(database.url);
    const environment = testEnvironment(database.url, { GRANT_EVENTS_TOPIC: names.topic });
    service = await startTestApp('grant-service', GrantServiceModule.forRoot(loadGrantServiceConfig(environment)));
    await waitForTopic(names.topic);
    projector = await startProjector(database.url, names);
    reader = await TopicReader.start(names.topic);
  });

  afterAll(async () => {
    await reader?.stop();
    await projector?.app.close();
    await service?.app.close();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('projects a created grant as active', async () => {
    const grantId = randomUUID();
    const [created] = await GrantStreams.over(dataSource).create(grantId, ['offline_access', 'openid']);

    const [message] = await reader.waitForEvents([created.eventId]);
    expect(message.key).toBe(grantId);
    for (const header of cloudEventsHeaders) expect(message.headers[header]).toBeDefined();
    expect(decodeGrantEvent(message.raw).event).toEqual(created.event);

    const row = await waitFor(rowAtVersion(dataSource, grantId, 1));
    expect(row).toMatchObject({ status: 'active', scopes: ['offline_access', 'openid'], version: 1, position: created.position.toString() });
  });

  it('projects a revoked grant as revoked', async () => {
    const streams = GrantStreams.over(dataSource);
    const grantId = randomUUID();
    await streams.create(grantId);
    await waitFor(rowAtVersion(dataSource, grantId, 1));

    const [revoked] = await streams.revoke(grantId);

    const [message] = await reader.waitForEvents([revoked.eventId]);
    expect(message.headers.ce_type).toBe('dev.offline-grants.grant.revoked.v1');
    const row = await waitFor(rowAtVersion(dataSource, grantId, 2));
    expect(row.status).toBe('revoked');
    expect(row.revoke_reason).toBe('user');
    expect((await grantRow(dataSource, grantId))?.revoked_at).toBeInstanceOf(Date);
  });
});
