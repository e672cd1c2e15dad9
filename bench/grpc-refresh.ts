// Measures the gRPC Refresh call of the token service beside the REST figures of `npm run bench`:
//
//   npm start                      # in another terminal
//   npm run bench:grpc -- --duration 10 --concurrency 1,16,64
//
// It registers a client, creates a grant with offline_access through the REST API, issues an
// offline token, then keeps `concurrency` Refresh calls in flight on one channel for `duration`
// seconds per level and prints req/s, p50 and p99 of the successful calls.
import type { Client, ServiceError } from '@grpc/grpc-js';

import { grpcServiceClient } from '#grpc/grpc-client.js';
import { tokenServiceName, tokensProtoFile } from '#grpc/proto-files.js';

import { parseArguments } from './lib/arguments.js';
import { LatencyRecorder } from './lib/latency-recorder.js';
import { ServiceToken } from './lib/service-token.js';

const options = parseArguments(process.argv.slice(2), {
  duration: 10,
  concurrency: '1,16,64',
  grantServiceUrl: process.env.GRANT_SERVICE_URL ?? 'http://127.0.0.1:3000',
  tokenServiceUrl: process.env.TOKEN_SERVICE_URL ?? 'http://127.0.0.1:3001',
  tokenGrpcAddress: `127.0.0.1:${process.env.TOKEN_SERVICE_GRPC_PORT ?? '50052'}`,
  clientId: process.env.BOOTSTRAP_CLIENT_ID ?? 'bootstrap-service',
  clientSecret: process.env.BOOTSTRAP_CLIENT_SECRET ?? 'development-bootstrap-secret-change-me',
});

async function postJson(url: string, token: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`POST ${url} failed with ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

const adminToken = new ServiceToken(options.tokenServiceUrl, options.clientId, options.clientSecret, 'clients:admin grants:write tokens:issue');
const registered = await postJson(`${options.tokenServiceUrl}/v1/clients`, await adminToken.get(), { name: 'gRPC bench client' });
const created = await postJson(`${options.grantServiceUrl}/v1/grants`, await adminToken.get(), {
  user_id: `grpc-bench-${Date.now()}`,
  client_id: registered.client_id,
  scopes: ['offline_access', 'openid'],
});
const issued = await postJson(`${options.tokenServiceUrl}/v1/offline-tokens`, await adminToken.get(), {
  grant_id: (created.grant as { grant_id: string }).grant_id,
  min_position: created.position,
});

type RefreshClient = Client & {
  Refresh(request: Record<string, string>, callback: (error: ServiceError | null) => void): void;
};
const client = grpcServiceClient(tokensProtoFile, tokenServiceName, options.tokenGrpcAddress) as RefreshClient;
const request = {
  client_id: registered.client_id as string,
  client_secret: registered.client_secret as string,
  refresh_token: issued.refresh_token as string,
};

function refreshOnce(): Promise<ServiceError | null> {
  return new Promise((resolve) => client.Refresh(request, (error) => resolve(error)));
}

console.log('| Concurrency | req/s | p50 | p99 | Errors |');
console.log('| ---: | ---: | ---: | ---: | ---: |');
for (const concurrency of String(options.concurrency).split(',').map(Number)) {
  const latencies = new LatencyRecorder();
  let errors = 0;
  const deadline = performance.now() + options.duration * 1000;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const sentAt = performance.now();
        const error = await refreshOnce();
        if (error) errors += 1;
        else latencies.record(performance.now() - sentAt);
      }
    }),
  );
  const seconds = (performance.now() - startedAt) / 1000;
  const perSecond = Math.round(latencies.count / seconds);
  console.log(`| ${concurrency} | ${perSecond} | ${latencies.percentile(0.5).toFixed(2)} ms | ${latencies.percentile(0.99).toFixed(2)} ms | ${errors} |`);
}
client.close();
