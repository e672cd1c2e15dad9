import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { loadGrantServiceConfig } from '../../apps/grant-service/src/config/grant-service.config.js';
import { GrantServiceModule } from '../../apps/grant-service/src/grant-service.module.js';
import type { StartedHttpApp } from '#platform/start-http-app.js';
import { startTestApp, testEnvironment } from '#testing/test-apps.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';
import { waitFor } from '#testing/wait-for.js';

// A second broker on its own ports and folder, so that stopping it leaves the shared one alone. The
// port is drawn at random from a range no other test uses, so that parallel runs rarely collide;
// the controller listens on the port above it.
const brokerPort = 20_000 + 2 * Math.floor(Math.random() * 2000);
const brokerDirectory = mkdtempSync(path.join(tmpdir(), 'og-kafka-script-'));
const scriptEnvironment = { ...process.env, KAFKA_LOCAL_PORT: String(brokerPort), KAFKA_LOCAL_DIR: brokerDirectory, KAFKA_LOCAL_HEAP: '256m' };

function kafkaScript(command: string) {
  const result = spawnSync(process.execPath, ['scripts/kafka.mjs', command], { env: scriptEnvironment, encoding: 'utf8', timeout: 180_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

async function readiness(url: string) {
  const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: (await response.json()) as { details: Record<string, { status: string }> } };
}

describe('when the project script runs a broker', () => {
  let database: TestDatabase;
  let started: StartedHttpApp | undefined;

  beforeAll(async () => {
    database = await createTestDatabase('kafka_script');
  });

  afterAll(async () => {
    await started?.app.close();
    kafkaScript('stop');
    rmSync(brokerDirectory, { recursive: true, force: true });
    await database.drop();
  });

  it('starts once, reports status and serves a ready app until stopped', async () => {
    const start = kafkaScript('start');
    expect(start.output).toContain(`running on 127.0.0.1:${brokerPort}`);
    expect(start.status).toBe(0);

    const second = kafkaScript('start');
    expect(second.output).toContain('already running');
    expect(kafkaScript('status').status).toBe(0);

    started = await startTestApp(
      'grant-service',
      GrantServiceModule.forRoot(loadGrantServiceConfig(testEnvironment(database.url, { KAFKA_BROKERS: `127.0.0.1:${brokerPort}` }))),
    );
    const up = await readiness(started.url);
    expect(up.status).toBe(200);
    expect(up.body.details.kafka.status).toBe('up');

    const stop = kafkaScript('stop');
    expect(stop.output).toContain('stopped');
    const status = kafkaScript('status');
    expect(status.status).toBe(3);
    expect(status.output).toContain('not running');

    const stoppedAt = Date.now();
    const down = await waitFor(
      async () => {
        const answer = await readiness(started!.url);
        return answer.status === 503 ? answer : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 250, description: 'readiness to report Kafka down' },
    );
    expect(down.body.details.kafka.status).toBe('down');
    expect(down.body.details.postgres.status).toBe('up');
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
  });
});
