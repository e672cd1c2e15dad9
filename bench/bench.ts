// `npm run bench` measures the three apps end to end on this machine, with PostgreSQL, Kafka and
// the load generator on the same box.
//
//   npm run bench -- --grants 100000 --duration 10
//
// It recreates the database offline_grants_bench, uses a topic and consumer groups unique to the
// run, starts the local Kafka broker when none runs, starts the apps from dist/ with LOG_LEVEL=warn,
// seeds grants through the REST API, and measures the projector's catch-up, the token service's
// start, refresh, introspection and grant commands under load (autocannon, in a separate process),
// and revocation propagation. It prints a Markdown table, writes bench/results/<timestamp>.json,
// and stops everything it started. docs/benchmarks.md records runs and what limits each figure.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

import { createKafkaClient } from '#messaging/kafka-client.js';
import { prepareDatabase } from '#persistence/prepare-database.js';

import { AppProcess } from './lib/app-process.js';
import { parseArguments } from './lib/arguments.js';
import { seedClientId, seedGrants } from './lib/grant-seeding.js';
import { LatencyRecorder } from './lib/latency-recorder.js';
import { type LoadResult, runLoad } from './lib/load-spec.js';
import { renderReport } from './lib/bench-report.js';
import type { BenchResults } from './lib/bench-results.js';
import { ServiceToken } from './lib/service-token.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const workerPath = path.join(projectRoot, 'dist/bench/load-worker.js');

const options = parseArguments(process.argv.slice(2), {
  grants: 100_000,
  /** 0 means one user per ten grants. */
  users: 0,
  clients: 500,
  seedConcurrency: 32,
  /** Seconds of each load run. */
  duration: 10,
  connections: '1,16,64',
  /** Offered rates (requests per second) of the fixed-rate refresh runs, or empty for half the measured maximum. */
  pacedRates: '',
  /** Offline tokens the refresh and introspection runs rotate through. */
  tokens: 1000,
  /** Grants revoked, one request each, in the revoke command run. */
  revocations: 5000,
  /** Grants whose revocation is timed until a refresh is rejected. */
  propagation: 200,
  database: 'offline_grants_bench',
  databaseServer: process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432',
});
const connectionCounts = options.connections.split(',').map(Number);
if (connectionCounts.some((count) => !Number.isInteger(count) || count < 1)) {
  throw new Error(`--connections must be a comma-separated list of positive integers, such as 1,16,64; got ${options.connections}`);
}
if (options.pacedRates !== '' && options.pacedRates.split(',').some((rate) => !(Number(rate) > 0))) {
  throw new Error(`--paced-rates must be a comma-separated list of positive request rates, such as 1000,2000; got ${options.pacedRates}`);
}
const users = options.users || Math.max(1, Math.ceil(options.grants / 10));

/** The clients that get offline tokens: the two largest of the Zipf distribution. */
const tokenClients = [seedClientId(0), seedClientId(1)];
const bootstrap = { clientId: 'bench-bootstrap', clientSecret: randomBytes(24).toString('base64url') };

function log(message: string): void {
  console.log(`bench  ${new Date().toISOString().slice(11, 19)}  ${message}`);
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function basic(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
}

/** Starts the local broker unless KAFKA_BROKERS names one or it already runs, and returns whether this run started it. */
function ensureKafka(): boolean {
  if (process.env.KAFKA_BROKERS) return false;
  const status = spawnSync(process.execPath, ['scripts/kafka.mjs', 'status'], { cwd: projectRoot, stdio: 'ignore' });
  if (status.status === 0) return false;
  const started = spawnSync(process.execPath, ['scripts/kafka.mjs', 'start'], { cwd: projectRoot, stdio: 'inherit' });
  if (started.status !== 0) throw new Error('starting Kafka with scripts/kafka.mjs failed, see its output above');
  return true;
}

async function recreateDatabase(): Promise<string> {
  const server = new pg.Client({ connectionString: `${options.databaseServer}/postgres` });
  await server.connect();
  try {
    await server.query(`DROP DATABASE IF EXISTS ${server.escapeIdentifier(options.database)} WITH (FORCE)`);
  } finally {
    await server.end();
  }
  const url = `${options.databaseServer}/${options.database}`;
  await prepareDatabase(url);
  return url;
}

async function main(): Promise<void> {
  const startedKafka = ensureKafka();
  const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  const kafka = createKafkaClient({ clientId: 'bench', brokers: brokers.split(',') });
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const topic = `bench-grant-events-${runId}`;
  const projectorGroup = `bench-projector-${runId}`;
  const databaseUrl = await recreateDatabase();
  const database = new pg.Client({ connectionString: databaseUrl });
  await database.connect();
  log(`database ${options.database}, topic ${topic}`);

  const [grantPort, tokenPort, projectorPort, grantGrpcPort, tokenGrpcPort] = await Promise.all(Array.from({ length: 5 }, freePort));
  const tokenUrl = `http://127.0.0.1:${tokenPort}`;
  const grantUrl = `http://127.0.0.1:${grantPort}`;
  const environment: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    HTTP_HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: brokers,
    GRANT_SERVICE_PORT: String(grantPort),
    TOKEN_SERVICE_PORT: String(tokenPort),
    GRANT_PROJECTOR_PORT: String(projectorPort),
    GRANT_SERVICE_GRPC_PORT: String(grantGrpcPort),
    TOKEN_SERVICE_GRPC_PORT: String(tokenGrpcPort),
    GRANT_API_JWKS_URL: `${tokenUrl}/.well-known/jwks.json`,
    GRANT_API_ISSUER: tokenUrl,
    TOKEN_ISSUER: tokenUrl,
    GRANT_SERVICE_URL: grantUrl,
    TOKEN_KEY_PUBLISH_DELAY_SECONDS: '0',
    BOOTSTRAP_CLIENT_ID: bootstrap.clientId,
    BOOTSTRAP_CLIENT_SECRET: bootstrap.clientSecret,
    GRANT_EVENTS_TOPIC: topic,
    GRANT_EVENTS_DLQ_TOPIC: `${topic}.dlq`,
    GRANT_PROJECTOR_GROUP_ID: projectorGroup,
  };
  const apps = {
    token: new AppProcess('token-service', 'dist/apps/token-service/src/main.js', tokenUrl, environment, projectRoot),
    grant: new AppProcess('grant-service', 'dist/apps/grant-service/src/main.js', grantUrl, environment, projectRoot),
    projector: new AppProcess('grant-projector', 'dist/apps/grant-projector/src/main.js', `http://127.0.0.1:${projectorPort}`, environment, projectRoot),
  };
  const stopAll = () => Promise.all(Object.values(apps).map((app) => app.stop()));
  process.once('SIGINT', () => {
    log('interrupted; stopping the apps');
    void stopAll().then(() => process.exit(130));
  });

  try {
    const results = await measure(apps, kafka, database, topic, projectorGroup);
    const report = renderReport(results);
    console.log(`\n${report}`);
    const resultsDirectory = path.join(projectRoot, 'bench/results');
    mkdirSync(resultsDirectory, { recursive: true });
    const file = path.join(resultsDirectory, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    log(`results written to ${path.relative(projectRoot, file)}`);
  } finally {
    await stopAll();
    await database.end();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
    await admin.disconnect();
    if (startedKafka) spawnSync(process.execPath, ['scripts/kafka.mjs', 'stop'], { cwd: projectRoot, stdio: 'inherit' });
  }
}

type Apps = Record<'token' | 'grant' | 'projector', AppProcess>;
type KafkaClient = ReturnType<typeof createKafkaClient>;

async function measure(apps: Apps, kafka: KafkaClient, database: pg.Client, topic: string, projectorGroup: string): Promise<BenchResults> {
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    loadAverageAtStart: os.loadavg().map((value) => round(value)),
  };

  log('starting token-service and grant-service; the projector stays stopped during the seed');
  apps.token.start();
  await apps.token.waitUntilReady(60_000, performance.now());
  apps.grant.start();
  await apps.grant.waitUntilReady(60_000, performance.now());

  const admin = new ServiceToken(apps.token.url, bootstrap.clientId, bootstrap.clientSecret, 'clients:admin tokens:issue grants:write');
  const clientSecrets = new Map<string, string>();
  for (const clientId of tokenClients) clientSecrets.set(clientId, await registerClient(apps.token.url, await admin.get(), clientId));

  log(`seeding ${options.grants} grants for ${users} users through POST /v1/grants, ${options.seedConcurrency} at a time`);
  const seed = await seedGrants(
    { users, grants: options.grants, clients: options.clients, zipfExponent: 1.1, concurrency: options.seedConcurrency, seed: 1, grantServiceUrl: apps.grant.url },
    admin,
    (done, perSecond) => log(`seed: ${done} of ${options.grants}, ${perSecond}/s`),
  );
  log(`seeded ${seed.created} grants in ${seed.seconds} s (${seed.grantsPerSecond}/s)`);
  if (seed.failed > 0) throw new Error(`${seed.failed} grant creations failed, see the lines above`);

  const events = Number((await database.query('SELECT count(*) AS events FROM grant_events')).rows[0].events);
  await waitForTopicEnd(kafka, topic, events);
  const afterSeed = residentSizes(apps);

  log(`starting the projector to catch up on ${events} events`);
  const projectorStartedAt = performance.now();
  apps.projector.start();
  await waitForGroupLag(kafka, topic, projectorGroup, 0, 30 * 60_000);
  const projectorSeconds = (performance.now() - projectorStartedAt) / 1000;
  const projector = { events, secondsFromStart: round(projectorSeconds), eventsPerSecond: Math.round(events / projectorSeconds) };
  log(`projector caught up in ${projector.secondsFromStart} s (${projector.eventsPerSecond} events/s, process start included)`);

  const replay = measureReplay(apps.projector.environment);

  log('restarting the token service to time its start with the seeded grants');
  const activeGrants = Number((await database.query(`SELECT count(*) AS active FROM grants WHERE status = 'active'`)).rows[0].active);
  await apps.token.stop();
  const tokenStartedAt = performance.now();
  apps.token.start();
  const secondsToReady = await apps.token.waitUntilReady(120_000, tokenStartedAt, (body) => body.details?.projection?.grant_state === 'ready');
  const tokenServiceStart = {
    grants: activeGrants,
    secondsToReady: round(secondsToReady),
    loadSeconds: await metricValue(apps.token.url, 'token_service_grant_state_load_seconds'),
    rssMiB: apps.token.residentMebibytes(),
  };
  log(`token service ready in ${tokenServiceStart.secondsToReady} s with ${activeGrants} active grants`);

  const offlineGrants = await grantsWithOfflineAccess(database, tokenClients[0], options.tokens + options.propagation);
  if (offlineGrants.length < options.tokens + options.propagation) {
    throw new Error(`${tokenClients[0]} has only ${offlineGrants.length} grants with offline_access, so seed more grants or lower --tokens and --propagation`);
  }
  const loadGrants = offlineGrants.slice(0, options.tokens);
  const propagationGrants = offlineGrants.slice(options.tokens);
  log(`issuing ${loadGrants.length + propagationGrants.length} offline tokens`);
  const refreshTokens = await issueOfflineTokens(apps.token.url, admin, loadGrants);
  const propagationTokens = await issueOfflineTokens(apps.token.url, admin, propagationGrants);

  const loads: LoadResult[] = [];
  const clientAuthorization = basic(tokenClients[0], clientSecrets.get(tokenClients[0])!);
  const common = { url: apps.token.url, durationSeconds: options.duration, authorization: clientAuthorization, tokens: refreshTokens };
  for (const connections of connectionCounts) {
    loads.push(await load({ ...common, name: 'refresh', kind: 'refresh', connections }));
  }
  for (const connections of connectionCounts) {
    loads.push(await load({ ...common, name: 'introspect', kind: 'introspect', connections }));
  }
  const maxRefreshRate = Math.max(...loads.filter((result) => result.name === 'refresh').map((result) => result.requestsPerSecond));
  const pacedRates = options.pacedRates === '' ? [Math.max(1, Math.round(maxRefreshRate / 2))] : options.pacedRates.split(',').map(Number);
  for (const overallRate of pacedRates) {
    loads.push(await load({ ...common, name: 'refresh at a fixed rate', kind: 'refresh', connections: 64, overallRate }));
  }

  const commandConnections = [...new Set([16, Math.max(...connectionCounts)])];
  for (const connections of commandConnections) {
    loads.push(
      await load({
        name: 'create',
        kind: 'create',
        url: apps.grant.url,
        connections,
        durationSeconds: options.duration,
        authorization: `Bearer ${await admin.get()}`,
        clientId: tokenClients[1],
        userPrefix: `bench-load-${connections}-${Date.now().toString(36)}`,
      }),
    );
  }
  const revokable = await activeGrantsOf(database, seedClientId(2), options.revocations);
  if (revokable.length > 0) {
    loads.push(
      await load({
        name: 'revoke',
        kind: 'revoke',
        url: apps.grant.url,
        connections: 16,
        amount: revokable.length,
        authorization: `Bearer ${await admin.get()}`,
        grantIds: revokable,
      }),
    );
  }
  const afterLoad = residentSizes(apps);

  log(`timing revocation propagation for ${propagationGrants.length} grants`);
  const propagation = await measurePropagation(apps, admin, clientAuthorization, propagationGrants, propagationTokens);

  return {
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map((value) => round(value)) },
    options: { ...options, users },
    seed,
    projector,
    replay,
    tokenServiceStart,
    loads,
    propagation,
    rssMiB: { afterSeed, afterLoad },
  };
}

async function load(spec: Parameters<typeof runLoad>[1]): Promise<LoadResult> {
  const rate = spec.overallRate === undefined ? '' : ` at ${spec.overallRate}/s offered`;
  log(`load: ${spec.name} with ${spec.connections} connections${rate}`);
  const result = await runLoad(workerPath, spec);
  log(`  ${result.requestsPerSecond} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, non-2xx ${result.non2xx}`);
  return result;
}

async function registerClient(tokenUrl: string, accessToken: string, clientId: string): Promise<string> {
  const response = await fetch(`${tokenUrl}/v1/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: clientId, name: `Benchmark ${clientId}`, type: 'confidential' }),
  });
  const body = (await response.json()) as { client_secret?: string };
  if (response.status !== 201 || !body.client_secret) throw new Error(`registering ${clientId} failed with ${response.status}: ${JSON.stringify(body)}`);
  return body.client_secret;
}

async function grantsWithOfflineAccess(database: pg.Client, clientId: string, limit: number): Promise<string[]> {
  const { rows } = await database.query(
    `SELECT grant_id FROM grants WHERE client_id = $1 AND status = 'active' AND 'offline_access' = ANY (scopes) ORDER BY grant_id LIMIT $2`,
    [clientId, limit],
  );
  return rows.map((row: { grant_id: string }) => row.grant_id);
}

async function activeGrantsOf(database: pg.Client, clientId: string, limit: number): Promise<string[]> {
  const { rows } = await database.query(`SELECT grant_id FROM grants WHERE client_id = $1 AND status = 'active' ORDER BY grant_id LIMIT $2`, [clientId, limit]);
  return rows.map((row: { grant_id: string }) => row.grant_id);
}

/** Issues one offline token per grant, 16 requests at a time, and returns them in the order of `grantIds`. */
async function issueOfflineTokens(tokenUrl: string, admin: ServiceToken, grantIds: string[]): Promise<string[]> {
  const tokens: string[] = new Array(grantIds.length);
  let next = 0;
  const worker = async () => {
    while (next < grantIds.length) {
      const index = next++;
      const response = await fetch(`${tokenUrl}/v1/offline-tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await admin.get()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ grant_id: grantIds[index] }),
      });
      const body = (await response.json()) as { refresh_token?: string };
      if (!body.refresh_token) throw new Error(`issuing an offline token for ${grantIds[index]} failed with ${response.status}: ${JSON.stringify(body)}`);
      tokens[index] = body.refresh_token;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return tokens;
}

/**
 * Revokes each grant in turn with `DELETE /v1/grants/{id}`, then refreshes its token back to back
 * until the token service returns invalid_grant. Propagation is timed from the DELETE's response
 * ("revoke accepted"), and the figure from the DELETE's request is recorded too.
 */
async function measurePropagation(apps: Apps, admin: ServiceToken, clientAuthorization: string, grantIds: string[], refreshTokens: string[]) {
  const fromAccepted = new LatencyRecorder();
  const fromRequest = new LatencyRecorder();
  for (const [index, grantId] of grantIds.entries()) {
    const bearer = `Bearer ${await admin.get()}`;
    const requestedAt = performance.now();
    const revoked = await fetch(`${apps.grant.url}/v1/grants/${grantId}`, { method: 'DELETE', headers: { authorization: bearer } });
    await revoked.arrayBuffer();
    if (revoked.status !== 200) throw new Error(`DELETE /v1/grants/${grantId} returned ${revoked.status}, expected 200`);
    const acceptedAt = performance.now();

    const deadline = acceptedAt + 30_000;
    for (;;) {
      const response = await fetch(`${apps.token.url}/oauth/token`, {
        method: 'POST',
        headers: { authorization: clientAuthorization, 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=refresh_token&refresh_token=${refreshTokens[index]}`,
      });
      const body = (await response.json()) as { error?: string };
      if (response.status === 400 && body.error === 'invalid_grant') break;
      if (performance.now() > deadline) throw new Error(`grant ${grantId} still refreshed 30 s after its revocation`);
    }
    const rejectedAt = performance.now();
    fromAccepted.record(rejectedAt - acceptedAt);
    fromRequest.record(rejectedAt - requestedAt);
  }
  return {
    grants: grantIds.length,
    p50Ms: round(fromAccepted.percentile(0.5)),
    p99Ms: round(fromAccepted.percentile(0.99)),
    maxMs: round(fromAccepted.percentile(1)),
    p50FromRequestMs: round(fromRequest.percentile(0.5)),
    p99FromRequestMs: round(fromRequest.percentile(0.99)),
  };
}

/** Waits until the relay has put `events` messages on the topic. */
async function waitForTopicEnd(kafka: KafkaClient, topic: string, events: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (;;) {
      const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
      const published = offsets.reduce((total, { high, low }) => total + Number(high) - Number(low), 0);
      if (published >= events) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await admin.disconnect();
  }
}

/** Waits until `groupId` has committed to within `maxLag` messages of the topic's end. */
async function waitForGroupLag(kafka: KafkaClient, topic: string, groupId: string, maxLag: number, timeoutMs: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const deadline = performance.now() + timeoutMs;
  try {
    while (performance.now() < deadline) {
      const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
      const committedByPartition = new Map(committed.partitions.map(({ partition, offset }) => [partition, Number(offset)]));
      const lag = ends.reduce((total, { partition, high, low }) => {
        const offset = committedByPartition.get(partition) ?? -1;
        return total + Number(high) - (offset < 0 ? Number(low) : offset);
      }, 0);
      if (lag <= maxLag) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`consumer group ${groupId} did not catch up within ${timeoutMs} ms`);
  } finally {
    await admin.disconnect();
  }
}

/** Reads one gauge from an app's Prometheus metrics. */
async function metricValue(url: string, name: string): Promise<number | null> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
  return match ? round(Number(match[1])) : null;
}

function residentSizes(apps: Apps): Record<string, number | undefined> {
  return Object.fromEntries(Object.values(apps).map((app) => [app.name, app.residentMebibytes()]));
}

const rebuildEntry = 'dist/apps/grant-projector/src/replay/projection-rebuild.main.js';

/**
 * Rebuilds the projection into a fresh table with the projector's rebuild command, from the event
 * store and then from the topic, and reads the throughput it prints. A missing command or an
 * output this script does not understand becomes a note instead of a number.
 */
function measureReplay(environment: Record<string, string>): BenchResults['replay'] {
  if (!existsSync(path.join(projectRoot, rebuildEntry))) return { runs: [], note: `not measured: ${rebuildEntry} does not exist` };
  const runs: BenchResults['replay']['runs'] = [];
  for (const source of ['store', 'topic'] as const) {
    log(`replay: rebuilding the projection from the ${source}`);
    const result = spawnSync(process.execPath, [rebuildEntry, '--from', source], { cwd: projectRoot, env: environment, encoding: 'utf8', timeout: 30 * 60_000 });
    const match = /(\d+) events in ([\d.]+) s \((\d+) events\/s\)/.exec(result.stdout ?? '');
    if (result.status !== 0 || !match) {
      const lastLine = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').at(-1) ?? '';
      return { runs, note: `the rebuild from the ${source} exited with ${result.status ?? result.signal} and printed no throughput: ${lastLine}` };
    }
    runs.push({ source, events: Number(match[1]), seconds: Number(match[2]), eventsPerSecond: Number(match[3]) });
    log(`  ${match[0]}`);
  }
  return { runs, note: null };
}

function round(value: number): number {
  return Number(value.toFixed(2));
}

await main();
