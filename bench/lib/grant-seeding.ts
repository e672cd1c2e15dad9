import { performance } from 'node:perf_hooks';

import { LatencyRecorder } from './latency-recorder.js';
import { seededRandom, zipfSampler } from './seeded-random.js';
import type { ServiceToken } from './service-token.js';

export interface SeedOptions {
  users: number;
  grants: number;
  clients: number;
  zipfExponent: number;
  concurrency: number;
  seed: number;
  grantServiceUrl: string;
}

/** A grant creation as the REST API takes it. */
export interface GrantRequest {
  user_id: string;
  client_id: string;
  scopes: string[];
}

export interface SeedSummary {
  grants: number;
  created: number;
  existing: number;
  failed: number;
  seconds: number;
  grantsPerSecond: number;
  latencyMs: { p50: number; p99: number };
}

/** Returns the client id at Zipf rank `rank`, where rank 0 has the most grants. */
export function seedClientId(rank: number): string {
  return `client-${String(rank).padStart(4, '0')}`;
}

/**
 * Yields distinct (user, client) pairs, spreading the grants evenly over the users. Clients follow
 * a Zipf distribution (a few large clients, a long tail). Each user grants a distinct set of
 * clients, and 80 % of the grants include offline_access. The same seed yields the same pairs.
 */
export function* grantRequests(options: SeedOptions): Generator<GrantRequest> {
  if (options.grants / options.users > options.clients) {
    throw new Error(`--grants ${options.grants} over --users ${options.users} needs more than --clients ${options.clients} clients per user`);
  }
  const random = seededRandom(options.seed);
  const nextClient = zipfSampler(options.clients, options.zipfExponent, random);
  for (let user = 0; user < options.users; user += 1) {
    const share = Math.floor(((user + 1) * options.grants) / options.users) - Math.floor((user * options.grants) / options.users);
    const chosen = new Set<number>();
    while (chosen.size < share) {
      const candidate = nextClient();
      // Past a collision, fall back to the next free rank so that small tails still fill up.
      chosen.add(chosen.has(candidate) ? firstFree(chosen, candidate, options.clients) : candidate);
    }
    for (const client of chosen) {
      const scopes = random() < 0.8 ? ['offline_access', 'openid', 'profile'] : ['openid', 'profile'];
      yield { user_id: `user-${String(user).padStart(7, '0')}`, client_id: seedClientId(client), scopes };
    }
  }
}

function firstFree(chosen: Set<number>, from: number, clients: number): number {
  for (let offset = 1; offset <= clients; offset += 1) {
    const candidate = (from + offset) % clients;
    if (!chosen.has(candidate)) return candidate;
  }
  throw new Error('no free client left for this user');
}

/**
 * Creates the grants of `grantRequests(options)` through `POST /v1/grants`, `concurrency`
 * requests at a time, so that every grant has its events in the store and on Kafka. Calls
 * `onProgress` about every five seconds.
 */
export async function seedGrants(
  options: SeedOptions,
  token: ServiceToken,
  onProgress: (done: number, perSecond: number) => void = () => undefined,
): Promise<SeedSummary> {
  const latencies = new LatencyRecorder();
  const requests = grantRequests(options);
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
    onProgress(created + existing, Math.round((created + existing) / seconds));
  }, 5000);
  try {
    await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
  } finally {
    clearInterval(progress);
  }

  const seconds = (performance.now() - startedAt) / 1000;
  return {
    grants: options.grants,
    created,
    existing,
    failed,
    seconds: Number(seconds.toFixed(1)),
    grantsPerSecond: Math.round((created + existing) / seconds),
    latencyMs: { p50: Number(latencies.percentile(0.5).toFixed(2)), p99: Number(latencies.percentile(0.99).toFixed(2)) },
  };
}
