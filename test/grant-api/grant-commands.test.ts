import { eventsOf, type GrantApi, startGrantApi, testCallerId } from './grant-api-harness.js';

describe('grant commands over REST', () => {
  let api: GrantApi;
  let pairNumber = 0;
  /** Returns a (user, client) pair that no other test uses. */
  const newPair = () => {
    pairNumber += 1;
    return { user_id: `user-${pairNumber}`, client_id: `client-${pairNumber}` };
  };

  beforeAll(async () => {
    api = await startGrantApi('grant_commands');
  });

  afterAll(async () => {
    await api.close();
  });

  describe('when a grant is created', () => {
    it('responds 201 with the grant and its position', async () => {
      const pair = newPair();

      const response = await api.request('POST', '/v1/grants', { json: { ...pair, scopes: ['openid', 'offline_access'] } });

      expect(response.status).toBe(201);
      const { grant, position } = response.body;
      expect(grant).toMatchObject({
        user_id: pair.user_id,
        client_id: pair.client_id,
        scopes: ['offline_access', 'openid'],
        status: 'active',
        revoked_at: null,
        revoke_reason: null,
        version: 1,
        position,
      });
      expect(grant.grant_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(position).toMatch(/^\d+$/);
      expect(grant.created_at).toBe(grant.updated_at);
      expect(response.headers.get('location')).toBe(`/v1/grants/${grant.grant_id}`);
    });

    it('records GrantCreated with the calling service as actor', async () => {
      const response = await api.request('POST', '/v1/grants', { json: { ...newPair(), scopes: ['openid'] } });

      const events = await eventsOf(api.db, response.body.grant.grant_id);
      expect(events).toHaveLength(1);
      expect(events[0].type).toBe('GrantCreated');
      expect(events[0].position).toBe(response.body.position);
      expect(events[0].data.actor).toEqual({ type: 'service', id: testCallerId });
      expect(events[0].data.scopes).toEqual(['openid']);
    });

    it('records the actor an admin caller names', async () => {
      const token = await api.token({ scope: 'grants:admin' });

      const response = await api.request('POST', '/v1/grants', {
        token,
        json: { ...newPair(), scopes: ['openid'], actor: { type: 'user', id: 'user-on-consent-page' } },
      });

      expect(response.status).toBe(201);
      const [created] = await eventsOf(api.db, response.body.grant.grant_id);
      expect(created.data.actor).toEqual({ type: 'user', id: 'user-on-consent-page' });
    });
  });

  describe('when the same grant is created again', () => {
    it('responds 200 with the existing grant and records nothing', async () => {
      const pair = newPair();
      const first = await api.request('POST', '/v1/grants', { json: { ...pair, scopes: ['openid', 'email'] } });

      const again = await api.request('POST', '/v1/grants', { json: { ...pair, scopes: ['email', 'openid', 'email'] } });

      expect(again.status).toBe(200);
      expect(again.body.grant.grant_id).toBe(first.body.grant.grant_id);
      expect(again.body.position).toBe(first.body.position);
      expect(again.headers.get('location')).toBeNull();
      expect(await eventsOf(api.db, first.body.grant.grant_id)).toHaveLength(1);
    });
  });

  describe('when the pair is granted other scopes', () => {
    it('responds 200 and records GrantScopesChanged', async () => {
      const pair = newPair();
      const first = await api.request('POST', '/v1/grants', { json: { ...pair, scopes: ['openid'] } });

      const changed = await api.request('POST', '/v1/grants', { json: { ...pair, scopes: ['openid', 'profile'] } });

      expect(changed.status).toBe(200);
      expect(changed.body.grant.grant_id).toBe(first.body.grant.grant_id);
      expect(changed.body.grant.scopes).toEqual(['openid', 'profile']);
      expect(changed.body.grant.version).toBe(2);
      expect(BigInt(changed.body.position)).toBeGreaterThan(BigInt(first.body.position));
      const events = await eventsOf(api.db, first.body.grant.grant_id);
      expect(events.map((event) => event.type)).toEqual(['GrantCreated', 'GrantScopesChanged']);
      expect(events[1].data.previousScopes).toEqual(['openid']);
      expect(events[1].position).toBe(changed.body.position);
    });
  });

  describe('when 20 creates race for one pair', () => {
    it('creates exactly one grant', async () => {
      const pair = newPair();

      const responses = await Promise.all(
        Array.from({ length: 20 }, () => api.request('POST', '/v1/grants', { json: { ...pair, scopes: ['openid'] } })),
      );

      expect(responses.map((response) => response.status).sort((left, right) => left - right)).toEqual([...Array(19).fill(200), 201]);
      const grantIds = new Set(responses.map((response) => response.body.grant.grant_id));
      expect(grantIds.size).toBe(1);
      const created = await api.db.query(
        "SELECT count(*)::int AS count FROM grant_events WHERE type = 'GrantCreated' AND data->>'userId' = $1 AND data->>'clientId' = $2",
        [pair.user_id, pair.client_id],
      );
      expect(created.rows[0].count).toBe(1);
    });
  });

  describe('when 20 revokes race for one grant', () => {
    it('records exactly one GrantRevoked', async () => {
      const created = await api.request('POST', '/v1/grants', { json: { ...newPair(), scopes: ['openid'] } });
      const grantId = created.body.grant.grant_id;

      const responses = await Promise.all(Array.from({ length: 20 }, () => api.request('DELETE', `/v1/grants/${grantId}`)));

      expect(responses.every((response) => response.status === 200)).toBe(true);
      const events = await eventsOf(api.db, grantId);
      expect(events.map((event) => event.type)).toEqual(['GrantCreated', 'GrantRevoked']);
      const positions = new Set(responses.map((response) => response.body.position));
      expect([...positions]).toEqual([events[1].position]);
      expect(responses[0].body).toEqual({ grant_id: grantId, status: 'revoked', position: events[1].position });
    });
  });

  describe('when a grant is revoked', () => {
    it('records the admin reason by default', async () => {
      const created = await api.request('POST', '/v1/grants', { json: { ...newPair(), scopes: ['openid'] } });
      const grantId = created.body.grant.grant_id;

      const revoked = await api.request('DELETE', `/v1/grants/${grantId}`);

      expect(revoked.status).toBe(200);
      const events = await eventsOf(api.db, grantId);
      expect(events[1].data.reason).toBe('admin');
      expect(events[1].data.actor).toEqual({ type: 'service', id: testCallerId });
    });

    it('records the reason and actor an admin caller sends', async () => {
      const created = await api.request('POST', '/v1/grants', { json: { ...newPair(), scopes: ['openid'] } });
      const grantId = created.body.grant.grant_id;
      const token = await api.token({ scope: 'grants:admin', clientId: 'token-service' });

      const revoked = await api.request('DELETE', `/v1/grants/${grantId}`, {
        token,
        json: { reason: 'token_revoked', actor: { type: 'client', id: 'client-app-1' } },
      });

      expect(revoked.status).toBe(200);
      const events = await eventsOf(api.db, grantId);
      expect(events[1].data.reason).toBe('token_revoked');
      expect(events[1].data.actor).toEqual({ type: 'client', id: 'client-app-1' });
    });

    it('answers a repeated revoke with the first revocation position', async () => {
      const created = await api.request('POST', '/v1/grants', { json: { ...newPair(), scopes: ['openid'] } });
      const grantId = created.body.grant.grant_id;
      const first = await api.request('DELETE', `/v1/grants/${grantId}`, { json: { reason: 'user' } });

      const second = await api.request('DELETE', `/v1/grants/${grantId}`, { json: { reason: 'admin' } });

      expect(second.status).toBe(200);
      expect(second.body.position).toBe(first.body.position);
      expect(await eventsOf(api.db, grantId)).toHaveLength(2);
    });
  });

  describe('when a revoked pair is granted again', () => {
    it('creates a new grant id', async () => {
      const pair = newPair();
      const first = await api.request('POST', '/v1/grants', { json: { ...pair, scopes: ['openid'] } });
      await api.request('DELETE', `/v1/grants/${first.body.grant.grant_id}`);

      const second = await api.request('POST', '/v1/grants', { json: { ...pair, scopes: ['openid'] } });

      expect(second.status).toBe(201);
      expect(second.body.grant.grant_id).not.toBe(first.body.grant.grant_id);
      const oldEvents = await eventsOf(api.db, first.body.grant.grant_id);
      expect(oldEvents.map((event) => event.type)).toEqual(['GrantCreated', 'GrantRevoked']);
    });
  });

  describe('when the scopes of a grant are patched', () => {
    it('records GrantScopesChanged and returns the new position', async () => {
      const created = await api.request('POST', '/v1/grants', { json: { ...newPair(), scopes: ['openid'] } });
      const grantId = created.body.grant.grant_id;

      const patched = await api.request('PATCH', `/v1/grants/${grantId}`, { json: { scopes: ['email'] } });

      expect(patched.status).toBe(200);
      expect(patched.body.grant).toMatchObject({ grant_id: grantId, scopes: ['email'], version: 2 });
      const events = await eventsOf(api.db, grantId);
      expect(events[1].type).toBe('GrantScopesChanged');
      expect(events[1].position).toBe(patched.body.position);
    });

    it('rejects a revoked grant with 409 grant.revoked', async () => {
      const created = await api.request('POST', '/v1/grants', { json: { ...newPair(), scopes: ['openid'] } });
      const grantId = created.body.grant.grant_id;
      await api.request('DELETE', `/v1/grants/${grantId}`);

      const patched = await api.request('PATCH', `/v1/grants/${grantId}`, { json: { scopes: ['email'] } });

      expect(patched.status).toBe(409);
      expect(patched.body.code).toBe('grant.revoked');
    });
  });

  describe('when the history of a grant is read', () => {
    it('lists every event oldest first with actor and reason', async () => {
      const created = await api.request('POST', '/v1/grants', { json: { ...newPair(), scopes: ['openid'] } });
      const grantId = created.body.grant.grant_id;
      const patched = await api.request('PATCH', `/v1/grants/${grantId}`, { json: { scopes: ['openid', 'email'] } });
      const adminToken = await api.token({ scope: 'grants:admin' });
      const revoked = await api.request('DELETE', `/v1/grants/${grantId}`, {
        token: adminToken,
        json: { reason: 'user', actor: { type: 'user', id: 'user-self' } },
      });

      const history = await api.request('GET', `/v1/grants/${grantId}/history`);

      expect(history.status).toBe(200);
      expect(history.body.grant_id).toBe(grantId);
      const events = history.body.events;
      expect(events.map((event: { type: string }) => event.type)).toEqual(['GrantCreated', 'GrantScopesChanged', 'GrantRevoked']);
      expect(events.map((event: { version: number }) => event.version)).toEqual([1, 2, 3]);
      expect(events.map((event: { position: string }) => event.position)).toEqual([
        created.body.position,
        patched.body.position,
        revoked.body.position,
      ]);
      expect(events[0]).toMatchObject({ actor: { type: 'service', id: testCallerId }, scopes: ['openid'], reason: null, previous_scopes: null });
      expect(events[1]).toMatchObject({ scopes: ['email', 'openid'], previous_scopes: ['openid'] });
      expect(events[2]).toMatchObject({ actor: { type: 'user', id: 'user-self' }, reason: 'user' });
      for (const event of events) {
        expect(event.event_id).toMatch(/^[0-9a-f-]{36}$/);
        expect(Number.isNaN(Date.parse(event.occurred_at))).toBe(false);
        expect(Number.isNaN(Date.parse(event.recorded_at))).toBe(false);
      }
    });

    it('responds 404 for a grant without events', async () => {
      const history = await api.request('GET', '/v1/grants/6d2c6f0e-3b7a-4b8e-9f3d-0c1a2b3c4d5e/history');

      expect(history.status).toBe(404);
      expect(history.body.code).toBe('grant.not_found');
    });
  });

  describe('when commands have run', () => {
    it('counts them by command and outcome', async () => {
      const pair = newPair();
      await api.request('POST', '/v1/grants', { json: { ...pair, scopes: ['openid'] } });
      await api.request('POST', '/v1/grants', { json: { ...pair, scopes: ['openid'] } });

      const metrics = await (await fetch(`${api.url}/metrics`)).text();

      expect(metrics).toMatch(/^grant_commands_total\{command="create_grant",outcome="recorded"\} [1-9]/m);
      expect(metrics).toMatch(/^grant_commands_total\{command="create_grant",outcome="unchanged"\} [1-9]/m);
      expect(metrics).toMatch(/^grant_commands_total\{command="revoke_grant",outcome="recorded"\} [1-9]/m);
    });
  });
});
