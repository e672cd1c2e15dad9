import type { KafkaMessage } from 'kafkajs';
import pg from 'pg';

import { decodeGrantEvent } from '#grant-events/grant-event-codec.js';
import { testKafkaClient, uniqueName } from '#testing/test-kafka.js';
import { waitFor } from '#testing/wait-for.js';

import { bootstrapClient, FullStack } from '../support/full-stack.js';

// The whole story through the three apps, the real PostgreSQL and the real broker: a grant is
// recorded, published, projected, used for offline tokens, revoked, and then refused everywhere.
describe('when a grant goes through its whole life', () => {
  let stack: FullStack;
  let client: { clientId: string; clientSecret: string };
  const messages: KafkaMessage[] = [];
  const consumer = testKafkaClient().consumer({ groupId: uniqueName('e2e-subscriber') });

  beforeAll(async () => {
    stack = await FullStack.start('e2e_lifecycle');
    client = await stack.registerClient('photo-printer');
    await consumer.connect();
    await consumer.subscribe({ topic: stack.topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        messages.push(message);
      },
    });
  });

  afterAll(async () => {
    await consumer.disconnect();
    await stack.stop();
  });

  function eventsOf(grantId: string) {
    return messages.filter((message) => message.key?.toString() === grantId).map((message) => ({ message, envelope: decodeGrantEvent(message) }));
  }

  async function grantWhenProjected(grantId: string, position: string) {
    const { status, body } = await stack.callJson('grant', 'GET', `/v1/grants/${grantId}?min_position=${position}`, 'grants:read');
    expect(status).toBe(200);
    return body;
  }

  function refresh(refreshToken: string) {
    return stack.postTokenForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken }, client);
  }

  it('records, publishes, projects, honours and then refuses a revoked grant', async () => {
    const userId = uniqueName('user');
    const created = await stack.callJson('grant', 'POST', '/v1/grants', 'grants:write', {
      user_id: userId,
      client_id: client.clientId,
      scopes: ['openid', 'offline_access', 'photos:read', 'openid'],
    });
    expect(created.status).toBe(201);
    const grant = created.body.grant as { grant_id: string; scopes: string[] };
    expect(grant.scopes).toEqual(['offline_access', 'openid', 'photos:read']);

    const store = new pg.Client({ connectionString: stack.database.url });
    await store.connect();
    try {
      const rows = await store.query('SELECT type, version, position::text FROM grant_events WHERE grant_id = $1', [grant.grant_id]);
      expect(rows.rows).toEqual([{ type: 'GrantCreated', version: 1, position: created.body.position }]);
    } finally {
      await store.end();
    }

    const [published] = await waitFor(() => (eventsOf(grant.grant_id).length === 1 ? eventsOf(grant.grant_id) : undefined), {
      description: 'GrantCreated on the topic',
    });
    expect(published.envelope.cloudEventType).toBe('dev.offline-grants.grant.created.v1');
    expect(published.envelope.position.toString()).toBe(created.body.position);
    expect(published.message.headers?.['content-type']?.toString()).toBe('application/json');
    expect(published.message.headers?.ce_source?.toString()).toBe('/offline-grants/grant-service');

    const projected = await grantWhenProjected(grant.grant_id, created.body.position as string);
    expect(projected.status).toBe('active');

    const issued = await stack.callJson('token', 'POST', '/v1/offline-tokens', 'tokens:issue', {
      grant_id: grant.grant_id,
      min_position: created.body.position,
    });
    expect(issued.status).toBe(200);
    const refreshToken = issued.body.refresh_token as string;

    const firstRefresh = await refresh(refreshToken);
    expect(firstRefresh.status).toBe(200);
    const tokens = (await firstRefresh.json()) as { access_token: string; scope: string };
    expect(tokens.scope.split(' ').sort()).toEqual(['offline_access', 'openid', 'photos:read']);
    const accessClaims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString()) as { grant_id: string };
    expect(accessClaims.grant_id).toBe(grant.grant_id);

    const revoked = await stack.callJson('grant', 'DELETE', `/v1/grants/${grant.grant_id}`, 'grants:admin', {
      reason: 'user',
      actor: { type: 'user', id: userId },
    });
    expect(revoked.status).toBe(200);

    const revocation = await waitFor(() => eventsOf(grant.grant_id).find(({ envelope }) => envelope.event.type === 'GrantRevoked'), {
      description: 'GrantRevoked on the topic',
    });
    expect(revocation.envelope.event.data).toMatchObject({ reason: 'user', actor: { type: 'user', id: userId }, clientId: client.clientId });

    const afterRevoke = await grantWhenProjected(grant.grant_id, revoked.body.position as string);
    expect(afterRevoke.status).toBe('revoked');
    expect(afterRevoke.revoke_reason).toBe('user');

    // Propagation to the token service is asynchronous but fast; it must refuse within seconds.
    const refused = await waitFor(
      async () => {
        const response = await refresh(refreshToken);
        return response.status === 400 ? ((await response.json()) as { error: string }) : undefined;
      },
      { timeoutMs: 5000, description: 'refresh to be refused after revocation' },
    );
    expect(refused.error).toBe('invalid_grant');

    const introspection = await stack.postTokenForm('/oauth/introspect', { token: refreshToken }, client);
    expect(await introspection.json()).toEqual({ active: false });

    const history = await stack.callJson('grant', 'GET', `/v1/grants/${grant.grant_id}/history`, 'grants:read');
    const historyEvents = history.body.events as Array<{ type: string; reason?: string }>;
    expect(historyEvents.map((event) => event.type)).toEqual(['GrantCreated', 'GrantRevoked']);
    expect(historyEvents[1].reason).toBe('user');
  });

  it('revokes the grant when the client revokes its refresh token', async () => {
    const created = await stack.callJson('grant', 'POST', '/v1/grants', 'grants:write', {
      user_id: uniqueName('user'),
      client_id: client.clientId,
      scopes: ['offline_access', 'openid'],
    });
    const grantId = (created.body.grant as { grant_id: string }).grant_id;
    const issued = await stack.callJson('token', 'POST', '/v1/offline-tokens', 'tokens:issue', { grant_id: grantId, min_position: created.body.position });
    const refreshToken = issued.body.refresh_token as string;

    const revocation = await stack.postTokenForm('/oauth/revoke', { token: refreshToken, token_type_hint: 'refresh_token' }, client);
    expect(revocation.status).toBe(200);

    const event = await waitFor(() => eventsOf(grantId).find(({ envelope }) => envelope.event.type === 'GrantRevoked'), {
      description: 'GrantRevoked after token revocation',
    });
    expect(event.envelope.event.data).toMatchObject({ reason: 'token_revoked', actor: { type: 'client', id: client.clientId } });

    const refused = await waitFor(
      async () => {
        const response = await refresh(refreshToken);
        return response.status === 400 ? ((await response.json()) as { error: string }) : undefined;
      },
      { timeoutMs: 5000, description: 'refresh to be refused after token revocation' },
    );
    expect(refused.error).toBe('invalid_grant');
  });
});

describe('when tokens are presented to the service APIs', () => {
  let stack: FullStack;

  beforeAll(async () => {
    stack = await FullStack.start('e2e_service_api');
  });

  afterAll(async () => {
    await stack.stop();
  });

  async function bearer(app: 'grant' | 'token', path: string, token: string) {
    const base = app === 'grant' ? stack.grantService.url : stack.tokenService.url;
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('rejects a user-grant token whose scopes are named like service scopes', async () => {
    const client = await stack.registerClient('scope-smuggler');
    const created = await stack.callJson('grant', 'POST', '/v1/grants', 'grants:write', {
      user_id: uniqueName('mallory'),
      client_id: client.clientId,
      scopes: ['offline_access', 'grants:admin', 'clients:admin'],
    });
    const grantId = (created.body.grant as { grant_id: string }).grant_id;
    const issued = await stack.callJson('token', 'POST', '/v1/offline-tokens', 'tokens:issue', { grant_id: grantId, min_position: created.body.position });
    const refreshed = await stack.postTokenForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token as string }, client);
    const { access_token: userToken } = (await refreshed.json()) as { access_token: string };

    const grantApi = await bearer('grant', `/v1/grants?client_id=${client.clientId}`, userToken);
    expect(grantApi.status).toBe(401);
    expect(grantApi.body.code).toBe('auth.invalid_token');

    const clientsApi = await bearer('token', '/v1/clients', userToken);
    expect(clientsApi.status).toBe(401);
  });

  it('revokes the grants of a deleted client and retires its id', async () => {
    const client = await stack.registerClient('short-lived-app');
    const created = await stack.callJson('grant', 'POST', '/v1/grants', 'grants:write', {
      user_id: uniqueName('user'),
      client_id: client.clientId,
      scopes: ['offline_access', 'openid'],
    });
    const grantId = (created.body.grant as { grant_id: string }).grant_id;

    const deleted = await stack.callJson('token', 'DELETE', `/v1/clients/${client.clientId}`, 'clients:admin');
    expect(deleted.status).toBe(204);

    const history = await waitFor(
      async () => {
        const { body } = await stack.callJson('grant', 'GET', `/v1/grants/${grantId}/history`, 'grants:read');
        const events = body.events as Array<{ type: string; reason?: string }>;
        return events.length === 2 ? events : undefined;
      },
      { description: 'the bulk revocation of the deleted client' },
    );
    expect(history[1]).toMatchObject({ type: 'GrantRevoked', reason: 'client_removed' });

    const again = await stack.callJson('token', 'POST', '/v1/clients', 'clients:admin', { client_id: client.clientId, name: 'Impostor' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('client.already_exists');
  });

  it('rejects a service token its client revoked', async () => {
    const token = await stack.serviceToken('grants:read');
    expect((await bearer('grant', '/v1/grants?user_id=nobody', token)).status).toBe(200);

    const revocation = await stack.postTokenForm('/oauth/revoke', { token, token_type_hint: 'access_token' }, bootstrapClient);
    expect(revocation.status).toBe(200);

    const afterRevocation = await bearer('grant', '/v1/grants?user_id=nobody', token);
    expect(afterRevocation.status).toBe(401);
    expect(afterRevocation.body.detail).toBe('The access token has been revoked, so request a new one.');
  });
});
