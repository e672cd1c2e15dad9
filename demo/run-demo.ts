// `npm run demo`: walks the whole story on a running system (`npm start` in another terminal) with
// real clients, and exits non-zero at the first step that deviates from what a user expects.
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import * as oidcClient from 'openid-client';

import { decodeGrantEvent } from '#grant-events/grant-event-codec.js';
import type { GrantEventEnvelope } from '#grant-events/grant-event-message.js';

import { signInAtDevelopmentProvider } from './user-sign-in.js';

const settings = {
  grantServiceUrl: process.env.GRANT_SERVICE_URL ?? 'http://127.0.0.1:3000',
  tokenServiceUrl: process.env.TOKEN_SERVICE_URL ?? 'http://127.0.0.1:3001',
  accountIssuer: process.env.ACCOUNT_OIDC_ISSUER ?? 'http://127.0.0.1:3003',
  accountClientId: process.env.ACCOUNT_OIDC_CLIENT_ID ?? 'offline-grants-account',
  kafkaBrokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  topic: process.env.GRANT_EVENTS_TOPIC ?? 'grant-events',
  bootstrapClientId: process.env.BOOTSTRAP_CLIENT_ID ?? 'bootstrap-service',
  bootstrapClientSecret: process.env.BOOTSTRAP_CLIENT_SECRET ?? 'development-bootstrap-secret-change-me',
  userId: process.env.DEMO_USER ?? 'alice',
};

class DemoFailure extends Error {}

function expectThat(condition: unknown, message: string): asserts condition {
  if (!condition) throw new DemoFailure(message);
}

let stepNumber = 0;
async function step<T>(title: string, action: () => Promise<T>): Promise<T> {
  stepNumber += 1;
  process.stdout.write(`${String(stepNumber).padStart(2)}. ${title} ... `);
  try {
    const result = await action();
    process.stdout.write('ok\n');
    return result;
  } catch (error) {
    process.stdout.write('FAILED\n');
    console.error(`    ${(error as Error).message}`);
    process.exit(1);
  }
}

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

async function serviceToken(scope: string): Promise<string> {
  const response = await fetch(`${settings.tokenServiceUrl}/oauth/token`, {
    method: 'POST',
    headers: { authorization: basic(settings.bootstrapClientId, settings.bootstrapClientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
  });
  const body = (await response.json()) as { access_token?: string; error?: string };
  expectThat(body.access_token, `client_credentials for the bootstrap client answered ${response.status} ${body.error ?? ''}`);
  return body.access_token;
}

async function callJson(url: string, init: { method: string; token: string; body?: unknown }): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: init.method,
    headers: { authorization: `Bearer ${init.token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const demoId = randomBytes(3).toString('hex');

const client = await step('register a confidential client "Photo Printer"', async () => {
  const { status, body } = await callJson(`${settings.tokenServiceUrl}/v1/clients`, {
    method: 'POST',
    token: await serviceToken('clients:admin'),
    body: { client_id: `photo-printer-${demoId}`, name: 'Photo Printer', type: 'confidential' },
  });
  expectThat(status === 201, `POST /v1/clients answered ${status}: ${JSON.stringify(body)}`);
  return { clientId: body.client_id as string, clientSecret: body.client_secret as string };
});

const grant = await step(`create a grant with offline_access for ${settings.userId}`, async () => {
  const { status, body } = await callJson(`${settings.grantServiceUrl}/v1/grants`, {
    method: 'POST',
    token: await serviceToken('grants:write'),
    body: { user_id: settings.userId, client_id: client.clientId, scopes: ['openid', 'offline_access', 'photos:read'] },
  });
  expectThat(status === 201, `POST /v1/grants answered ${status}: ${JSON.stringify(body)}`);
  return { grantId: (body.grant as { grant_id: string }).grant_id, position: body.position as string };
});

const offline = await step('issue an offline refresh token for the grant', async () => {
  const { status, body } = await callJson(`${settings.tokenServiceUrl}/v1/offline-tokens`, {
    method: 'POST',
    token: await serviceToken('tokens:issue'),
    body: { grant_id: grant.grantId, min_position: grant.position },
  });
  expectThat(status === 200, `POST /v1/offline-tokens answered ${status}: ${JSON.stringify(body)}`);
  return body.refresh_token as string;
});

const configuration = await step('discover the token service with openid-client (RFC 8414)', () =>
  oidcClient.discovery(new URL(settings.tokenServiceUrl), client.clientId, client.clientSecret, oidcClient.ClientSecretBasic(client.clientSecret), {
    algorithm: 'oauth2',
    execute: [oidcClient.allowInsecureRequests],
  }),
);

await step('refresh the offline token with openid-client', async () => {
  const tokens = await oidcClient.refreshTokenGrant(configuration, offline);
  expectThat(tokens.access_token, 'the refresh returned no access token');
  const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString()) as { grant_id?: string };
  expectThat(claims.grant_id === grant.grantId, `the access token carries grant_id ${claims.grant_id}, expected ${grant.grantId}`);
});

const revocations: GrantEventEnvelope[] = [];
const consumer = new Kafka({ clientId: 'demo-subscriber', brokers: settings.kafkaBrokers, logLevel: logLevel.NOTHING }).consumer({
  groupId: `demo-subscriber-${demoId}`,
});
await step(`start a subscriber on ${settings.topic}`, async () => {
  await consumer.connect();
  await consumer.subscribe({ topic: settings.topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.key?.toString() !== grant.grantId) return;
      const envelope = decodeGrantEvent(message);
      if (envelope.event.type === 'GrantRevoked') revocations.push(envelope);
    },
  });
});

const userToken = await step(`sign ${settings.userId} in to the account page's identity provider`, () =>
  signInAtDevelopmentProvider({
    issuer: settings.accountIssuer,
    clientId: settings.accountClientId,
    redirectUri: `${settings.grantServiceUrl}/account`,
    userId: settings.userId,
    scope: 'openid profile',
  }),
);

await step(`${settings.userId} removes the client's access through the account API`, async () => {
  const listed = await callJson(`${settings.grantServiceUrl}/v1/account/grants`, { method: 'GET', token: userToken });
  expectThat(listed.status === 200, `GET /v1/account/grants answered ${listed.status}: ${JSON.stringify(listed.body)}`);
  const { status, body } = await callJson(`${settings.grantServiceUrl}/v1/account/grants/${grant.grantId}`, { method: 'DELETE', token: userToken });
  expectThat(status === 200, `DELETE /v1/account/grants answered ${status}: ${JSON.stringify(body)}`);
});

await step('the subscriber receives GrantRevoked naming the user, client, reason and actor', async () => {
  const deadline = Date.now() + 10_000;
  while (revocations.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  expectThat(revocations.length > 0, 'no GrantRevoked arrived within 10 s');
  const { data } = revocations[0].event;
  expectThat(data.userId === settings.userId, `userId is ${data.userId}`);
  expectThat(data.clientId === client.clientId, `clientId is ${data.clientId}`);
  expectThat(revocations[0].event.type === 'GrantRevoked' && revocations[0].event.data.reason === 'user', 'reason is not user');
  expectThat(data.actor.type === 'user' && data.actor.id === settings.userId, `actor is ${JSON.stringify(data.actor)}`);
  console.log(`\n    ${JSON.stringify({ grantId: data.grantId, userId: data.userId, clientId: data.clientId, reason: 'user', actor: data.actor })}`);
});
await consumer.disconnect();

await step('the refresh now fails with invalid_grant', async () => {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      await oidcClient.refreshTokenGrant(configuration, offline);
    } catch (error) {
      const code = (error as { error?: string }).error;
      expectThat(code === 'invalid_grant', `the refresh failed with ${code ?? (error as Error).message}, expected invalid_grant`);
      return;
    }
    expectThat(Date.now() < deadline, 'the refresh still succeeds 5 s after the revocation');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
});

const history = await step("read the grant's history", async () => {
  const { status, body } = await callJson(`${settings.grantServiceUrl}/v1/grants/${grant.grantId}/history`, {
    method: 'GET',
    token: await serviceToken('grants:read'),
  });
  expectThat(status === 200, `GET history answered ${status}`);
  return body.events as Array<Record<string, unknown>>;
});
for (const event of history) {
  console.log(`    ${event.recorded_at}  v${event.version}  ${event.type}  actor=${JSON.stringify(event.actor)}${event.reason ? `  reason=${event.reason}` : ''}`);
}
console.log('\nThe demo finished: every step behaved as expected.');
