// Makes sure the services the suites need are there: PostgreSQL must already run; Kafka is started
// from the project's own script when KAFKA_BROKERS is unset and nothing accepts connections on 127.0.0.1:9092.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import pg from 'pg';


function portAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Same default as libs/testing/src/test-database.ts; global hooks run outside Jest's module mapping. */
function testServerUrl(): URL {
  return new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
}

export default async function globalSetup(): Promise<void> {
  process.env.TEST_RUN_PID = String(process.pid);

  const client = new pg.Client({ connectionString: testServerUrl().toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${testServerUrl().host} (${(error as Error).message}). ` +
        'Start it, or set TEST_DATABASE_URL to a server where the tests may create databases.',
    );
  } finally {
    await client.end().catch(() => undefined);
  }

  if (process.env.KAFKA_BROKERS) return;
  process.env.KAFKA_BROKERS = '127.0.0.1:9092';
  if (await portAnswers('127.0.0.1', 9092)) return;

  const result = spawnSync(process.execPath, ['scripts/kafka.mjs', 'start'], { stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error('the local Kafka broker did not start; see the output of scripts/kafka.mjs above');
  }
  process.env.TEST_STARTED_KAFKA = '1';
}
