// Drives one load run and prints its result as one JSON line. The benchmark runs it as a separate
// process, so that the load generator does not share an event loop with the benchmark's own
// bookkeeping:
//
//   node dist/bench/load-worker.js /path/to/load-spec.json
//
// Runs at full speed use autocannon. Runs at a fixed rate use a paced sender on node:http instead,
// because autocannon 8 limits a rate by letting each connection send its whole quota at the start
// of every second (lib/httpClient.js), which turns a steady rate into bursts. The paced sender sends
// request i at start + i / rate and measures its latency from that planned time, so a stalled
// server cannot hide its queue (no coordinated omission).
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

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
const headers = { authorization: spec.authorization, ...(spec.kind === 'revoke' ? {} : { 'content-type': contentType }) };
const result = spec.overallRate === undefined ? await runAutocannon() : await runPaced(spec.overallRate);
console.log(JSON.stringify(result));

async function runAutocannon(): Promise<LoadResult> {
  const latencies = new LatencyRecorder();
  const instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    ...(spec.amount === undefined ? { duration: spec.durationSeconds } : { amount: spec.amount }),
    headers,
    requests: [requestFor()],
  });
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    if (statusCode >= 200 && statusCode < 300) latencies.record(responseTimeMs);
  });

  const result = await instance;
  return {
    name: spec.name,
    connections: spec.connections,
    offeredRate: null,
    seconds: result.duration,
    requests: result.requests.total,
    requestsPerSecond: Math.round(result.requests.total / result.duration),
    latencyMs: { p50: round(latencies.percentile(0.5)), p99: round(latencies.percentile(0.99)) },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, Number(count)])),
  };
}

/** Sends `rate` requests per second, evenly spaced, over at most `spec.connections` keep-alive connections. */
async function runPaced(rate: number): Promise<LoadResult> {
  const target = new URL(spec.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const template = requestFor();
  const total = Math.round(rate * (spec.durationSeconds ?? 10));
  const intervalMs = 1000 / rate;
  const latencies = new LatencyRecorder();
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  let finished = 0;

  const send = (plannedAt: number) =>
    new Promise<void>((resolve) => {
      const request = template.setupRequest ? template.setupRequest({ ...template }, {}) ?? template : template;
      const body = request.body ?? '';
      const outgoing = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.path,
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          response.resume();
          response.once('end', () => {
            const status = response.statusCode ?? 0;
            statusCodes[status] = (statusCodes[status] ?? 0) + 1;
            if (status >= 200 && status < 300) latencies.record(performance.now() - plannedAt);
            resolve();
          });
        },
      );
      outgoing.once('error', () => {
        errors += 1;
        resolve();
      });
      outgoing.end(body);
    }).finally(() => {
      finished += 1;
    });

  const startedAt = performance.now();
  const inFlight: Promise<void>[] = [];
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor((performance.now() - startedAt) / intervalMs) + 1);
    for (; sent < due; sent += 1) inFlight.push(send(startedAt + sent * intervalMs));
    const waitMs = startedAt + sent * intervalMs - performance.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, waitMs)));
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - startedAt) / 1000;
  agent.destroy();

  const non2xx = Object.entries(statusCodes)
    .filter(([code]) => !code.startsWith('2'))
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    name: spec.name,
    connections: spec.connections,
    offeredRate: rate,
    seconds: round(seconds),
    requests: finished,
    requestsPerSecond: Math.round(finished / seconds),
    latencyMs: { p50: round(latencies.percentile(0.5)), p99: round(latencies.percentile(0.99)) },
    non2xx,
    errors,
    timeouts: 0,
    statusCodes,
  };
}

function round(value: number): number {
  return Number(value.toFixed(2));
}
