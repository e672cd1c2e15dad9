// Creates realistic grants through the grant service's REST command path, so every grant has its
// events in the store and on Kafka:
//
//   npm run seed -- --users 100000 --grants 1000000
//
// Clients follow a Zipf distribution (a few large clients, a long tail); each user grants a distinct
// set of clients. The same --seed gives the same data. Needs the service running (`npm start`).
import { parseArguments } from './lib/arguments.js';
import { LatencyRecorder } from './lib/latency-recorder.js';
import { seededRandom, zipfSampler } from './lib/seeded-random.js';
import { ServiceToken } from './lib/service-token.js';

const options = parseArguments(process.argv.slice(2), {
  users: 10_000,
  grants: 100_000,
  clients: 500,
  zipfExponent: 1.1,
  concurrency: 32,
  seed: 1,
  grantServiceUrl: process.env.GRANT_SERVICE_URL ?? 'http://127.0.0.1:3000',
  tokenServiceUrl: process.env.TOKEN_SERVICE_URL ?? 'http://127.0.0.1:3001',
  clientId: process.env.BOOTSTRAP_CLIENT_ID ?? 'bootstrap-service',
  clientSecret: process.env.BOOTSTRAP_CLIENT_SECRET ?? 'development-bootstrap-secret-change-me',
});

if (options.grants / options.users > options.clients) {
  throw new Error(`--grants ${options.grants} over --users ${options.users} needs more than --clients ${options.clients} clients per user`);
}

/** Yields distinct (user, client) pairs, spreading the grants evenly over the users. */
function* grantRequests(): Generator<{ user_id: string; client_id: string; scopes: string[] }> {
  const random = seededRandom(options.seed);
  const nextClient = zipfSampler(options.clients, options.zipfExponent, random);
  for (let user = 0; user < options.users; user += 1) {
    const share = Math.floor(((user + 1) * options.grants) / options.users) - Math.floor((user * options.grants) / options.users);
    const chosen = new Set<number>();
    while (chosen.size < share) {
      const candidate = nextClient();
      // Past a few collisions, fall back to the next free rank so that small tails still fill up.
      chosen.add(chosen.has(candidate) ? firstFree(chosen, candidate) : candidate);
    }
    for (const client of chosen) {
      const scopes = random() < 0.8 ? ['offline_access', 'openid', 'profile'] : ['openid', 'profile'];
      yield { user_id: `user-${String(user).padStart(7, '0')}`, client_id: `client-${String(client).padStart(4, '0')}`, scopes };
    }
  }
}

function firstFree(chosen: Set<number>, from: number): number {
  for (let offset = 1; offset <= options.clients; offset += 1) {
    const candidate = (from + offset) % options.clients;
    if (!chosen.has(candidate)) return candidate;
  }
  throw new Error('no free client left for this user');
}

const token = new ServiceToken(options.tokenServiceUrl, options.clientId, options.clientSecret, 'grants:write');
const latencies = new LatencyRecorder();
const requests = grantRequests();
let created = 0;
let existing = 0;
let failed = 0;
const startedAt = performance.now();

async function worker(): Promise<void> {
  for (let next = requests.next(); !next.done; next = requests.next()) {
    const sentAt = performance.now();
    const response = await fetch(`${options.grantServiceUrl}/v1/grants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token.get()}`, 'content-type': 'application/json' },
      body: JSON.stringify(next.value),
    });
    await response.arrayBuffer();
    latencies.record(performance.now() - sentAt);
    if (response.status === 201) created += 1;
    else if (response.status === 200) existing += 1;
    else {
      failed += 1;
      if (failed <= 5) console.error(`POST /v1/grants failed with ${response.status} for ${JSON.stringify(next.value)}`);
    }
  }
}

const progress = setInterval(() => {
  const seconds = (performance.now() - startedAt) / 1000;
  console.log(`seed: ${created + existing} of ${options.grants} grants, ${Math.round((created + existing) / seconds)} per second`);
}, 5000);

await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
clearInterval(progress);

const seconds = (performance.now() - startedAt) / 1000;
const summary = {
  grants: options.grants,
  created,
  existing,
  failed,
  seconds: Number(seconds.toFixed(1)),
  grantsPerSecond: Math.round((created + existing) / seconds),
  latencyMs: { p50: Number(latencies.percentile(0.5).toFixed(2)), p99: Number(latencies.percentile(0.99).toFixed(2)) },
};
console.log(JSON.stringify(summary));
if (failed > 0) process.exitCode = 1;
