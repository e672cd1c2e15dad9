import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DataSource } from 'typeorm';

import { loadGrantServiceConfig } from '../../apps/grant-service/src/config/grant-service.config.js';
import { GrantServiceModule } from '../../apps/grant-service/src/grant-service.module.js';
import { GrantEventRelay } from '../../apps/grant-service/src/relay/grant-event-relay.js';
import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';
import type { StartedHttpApp } from '#platform/start-http-app.js';
import { startTestApp, testEnvironment } from '#testing/test-apps.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';
import { waitFor } from '#testing/wait-for.js';

import { grantRow, projectorNames, startProjector } from '../projector/projector-kit.js';
import { GrantStreams, openDataSource } from './grant-streams.js';
import { TopicReader } from './topic-reader.js';

// A broker of this test's own, so that stopping it leaves the shared test broker alone. The
// controller listens on the next port.
const brokerPort = 19_092;
const brokers = [`127.0.0.1:${brokerPort}`];
const brokerDirectory = mkdtempSync(path.join(tmpdir(), 'og-relay-broker-'));

/** Runs the project's broker script for this test's broker, without blocking the apps in this process. */
async function kafkaScript(command: 'start' | 'stop'): Promise<void> {
  await promisify(execFile)(process.execPath, ['scripts/kafka.mjs', command], {
    env: { ...process.env, KAFKA_LOCAL_PORT: String(brokerPort), KAFKA_LOCAL_DIR: brokerDirectory, KAFKA_LOCAL_HEAP: '256m' },
    encoding: 'utf8',
    timeout: 180_000,
  });
}

/** Appends grant commands one after another until stopped: creations, and a revocation of every third grant. */
class CommandStream {
  readonly recorded: RecordedGrantEvent[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly streams: GrantStreams) {
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  private async run(): Promise<void> {
    for (let index = 0; this.running; index += 1) {
      const grantId = randomUUID();
      this.recorded.push(...(await this.streams.create(grantId)));
      if (index % 3 === 0) this.recorded.push(...(await this.streams.revoke(grantId)));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

describe('when the broker stops and starts again', () => {
  const names = projectorNames('relay-restart');
  let database: TestDatabase;
  let dataSource: DataSource;
  let service: StartedHttpApp | undefined;
  let projector: StartedHttpApp | undefined;

  beforeAll(async () => {
    database = await createTestDatabase('relay_restart');
    dataSource = await openDataSource(database.url);
    // The apps start first and wait for the broker, so a failed boot leaves no broker behind.
    const environment = testEnvironment(database.url, { KAFKA_BROKERS: brokers.join(','), GRANT_EVENTS_TOPIC: names.topic });
    service = await startTestApp('grant-service', GrantServiceModule.forRoot(loadGrantServiceConfig(environment)));
    projector = await startProjector(database.url, names, { KAFKA_BROKERS: brokers.join(',') });
    await kafkaScript('start');
  }, 240_000);

  afterAll(async () => {
    await projector?.app.close();
    await service?.app.close();
    await kafkaScript('stop');
    rmSync(brokerDirectory, { recursive: true, force: true });
    await dataSource?.destroy();
    await database?.drop();
  }, 120_000);

  it('loses no event across the restart', async () => {
    const commands = new CommandStream(GrantStreams.over(dataSource));
    await waitFor(async () => commands.recorded.length > 0 && (await grantRow(dataSource, commands.recorded[0].grantId)), {
      timeoutMs: 60_000,
      description: 'the first event to be projected',
    });

    await kafkaScript('stop');
    const relay = service!.app.get(GrantEventRelay);
    await waitFor(() => commands.recorded.length - relay.publishedEventCount >= 50, {
      timeoutMs: 60_000,
      description: 'the relay to fall 50 events behind while the broker is down',
    });
    await kafkaScript('start');
    const appendedAfterRestart = commands.recorded.length;
    await waitFor(() => commands.recorded.length >= appendedAfterRestart + 20, { description: 'appends after the restart' });
    await commands.stop();

    const expectedVersions = new Map<string, number>();
    for (const event of commands.recorded) expectedVersions.set(event.grantId, event.version);
    await waitFor(
      async () => {
        const rows: Array<{ grant_id: string; version: number }> = await dataSource.query('SELECT grant_id, version FROM grants');
        const projected = new Map(rows.map((row) => [row.grant_id, row.version]));
        return [...expectedVersions].every(([grantId, version]) => projected.get(grantId) === version);
      },
      { timeoutMs: 90_000, description: 'every grant projected at its last version' },
    );

    const reader = await TopicReader.start(names.topic, brokers);
    try {
      const messages = await reader.waitForEvents(
        commands.recorded.map((event) => event.eventId),
        60_000,
      );
      expect(new Set(messages.map((message) => message.headers.ce_id)).size).toBe(commands.recorded.length);
    } finally {
      await reader.stop();
    }
    const revoked: Array<{ count: string }> = await dataSource.query("SELECT count(*) AS count FROM grants WHERE status = 'revoked'");
    expect(Number(revoked[0].count)).toBe(commands.recorded.filter((event) => event.event.type === 'GrantRevoked').length);
  }, 300_000);
});
