// Drives one load run with autocannon and prints its result as one JSON line. The benchmark runs
// it as a separate process, so that the load generator does not share an event loop with the
// benchmark's own bookkeeping:
//
//   node dist/bench/load-worker.js /path/to/load-spec.json
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';

import { LatencyRecorder } from './lib/latency-recorder.js';
import type { LoadResult, LoadSpec } from './lib/load-spec.js';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8')) as LoadSpec;

/** Shared by all connections, so that each request takes the next token, id or user. */
let nextIndex = 0;

function requestFor(): autocannon.Request {
  switch (spec.kind) {
    case 'refresh':
      return {
        method: 'POST',
        path: '/oauth/token',
        setupRequest: (request) => ({
          ...request,
          body: `grant_type=refresh_token&refresh_token=${spec.tokens[nextIndex++ % spec.tokens.length]}`,
        }),
      };
    case 'introspect':
      return {
        method: 'POST',
        path: '/oauth/introspect',
        setupRequest: (request) => ({ ...request, body: `token=${spec.tokens[nextIndex++ % spec.tokens.length]}` }),
      };
    case 'create':
      return {
        method: 'POST',
        path: '/v1/grants',
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ user_id: `${spec.userPrefix}-${nextIndex++}`, client_id: spec.clientId, scopes: ['offline_access', 'openid'] }),
        }),
      };
    case 'revoke':
      return {
        method: 'DELETE',
        setupRequest: (request) => ({ ...request, path: `/v1/grants/${spec.grantIds[nextIndex++ % spec.grantIds.length]}` }),
      };
  }
}

const contentType = spec.kind === 'refresh' || spec.kind === 'introspect' ? 'application/x-www-form-urlencoded' : 'application/json';
const latencies = new LatencyRecorder();
const instance = autocannon({
  url: spec.url,
  connections: spec.connections,
  ...(spec.amount === undefined ? { duration: spec.durationSeconds } : { amount: spec.amount }),
  ...(spec.overallRate === undefined ? {} : { overallRate: spec.overallRate }),
  headers: { authorization: spec.authorization, ...(spec.kind === 'revoke' ? {} : { 'content-type': contentType }) },
  requests: [requestFor()],
});
instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
  if (statusCode >= 200 && statusCode < 300) latencies.record(responseTimeMs);
});

const result = await instance;
const output: LoadResult = {
  name: spec.name,
  connections: spec.connections,
  offeredRate: spec.overallRate ?? null,
  seconds: result.duration,
  requests: result.requests.total,
  requestsPerSecond: Math.round(result.requests.total / result.duration),
  latencyMs: { p50: round(latencies.percentile(0.5)), p99: round(latencies.percentile(0.99)) },
  correctedP99Ms: spec.overallRate === undefined ? null : result.latency.p99,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, Number(count)])),
};
console.log(JSON.stringify(output));

function round(value: number): number {
  return Number(value.toFixed(2));
}
