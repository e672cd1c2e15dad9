import { randomUUID } from 'node:crypto';

import { eventsOf, type GrantApi, startGrantApi } from './grant-api-harness.js';

describe('Idempotency-Key on grant commands', () => {
  let api: GrantApi;
  let pairNumber = 0;
  const newPair = () => {
    pairNumber += 1;
    return { user_id: `idem-user-${pairNumber}`, client_id: 'idem-client' };
  };

  beforeAll(async () => {
    api = await startGrantApi('grant_idempotency');
  });

  afterAll(async () => {
    await api.close();
  });

  describe('when a request is retried with the same key and body', () => {
    it('replays the stored response', async () => {
      const key = randomUUID();
      const body = { ...newPair(), scopes: ['openid', 'email'] };
      const first = await api.request('POST', '/v1/grants', { json: body, headers: { 'idempotency-key': key } });
      // A later change of the grant must not alter the replay.
      await api.request('PATCH', `/v1/grants/${first.body.grant.grant_id}`, { json: { scopes: ['profile'] } });

      const retry = await api.request('POST', '/v1/grants', {
        json: { scopes: ['openid', 'email'], client_id: body.client_id, user_id: body.user_id },
        headers: { 'idempotency-key': key },
      });

      expect(first.status).toBe(201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      expect(retry.status).toBe(201);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(retry.body).toEqual(first.body);
    });

    it('replays a revoke without running it again', async () => {
      const created = await api.request('POST', '/v1/grants', { json: { ...newPair(), scopes: ['openid'] } });
      const grantId = created.body.grant.grant_id;
      const key = randomUUID();
      const first = await api.request('DELETE', `/v1/grants/${grantId}`, { json: { reason: 'user' }, headers: { 'idempotency-key': key } });

      const retry = await api.request('DELETE', `/v1/grants/${grantId}`, { json: { reason: 'user' }, headers: { 'idempotency-key': key } });

      expect(retry.status).toBe(200);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(retry.body).toEqual(first.body);
      expect(await eventsOf(api.db, grantId)).toHaveLength(2);
    });
  });

  describe('when a key is reused for another request', () => {
    it('rejects it with 422 idempotency.key_reused', async () => {
      const key = randomUUID();
      const pair = newPair();
      await api.request('POST', '/v1/grants', { json: { ...pair, scopes: ['openid'] }, headers: { 'idempotency-key': key } });

      const reused = await api.request('POST', '/v1/grants', { json: { ...pair, scopes: ['email'] }, headers: { 'idempotency-key': key } });

      expect(reused.status).toBe(422);
      expect(reused.body.code).toBe('idempotency.key_reused');
      expect(reused.body.field).toBe('Idempotency-Key');
    });

    it('rejects the same body on another path with 422', async () => {
      const key = randomUUID();
      const created = await api.request('POST', '/v1/grants', { json: { ...newPair(), scopes: ['openid'] } });
      const other = await api.request('POST', '/v1/grants', { json: { ...newPair(), scopes: ['openid'] } });
      await api.request('PATCH', `/v1/grants/${created.body.grant.grant_id}`, { json: { scopes: ['email'] }, headers: { 'idempotency-key': key } });

      const reused = await api.request('PATCH', `/v1/grants/${other.body.grant.grant_id}`, {
        json: { scopes: ['email'] },
        headers: { 'idempotency-key': key },
      });

      expect(reused.status).toBe(422);
    });
  });

  describe('when two callers use the same key', () => {
    it('runs each caller request', async () => {
      const key = randomUUID();
      const otherCaller = await api.token({ clientId: 'another-service' });

      const first = await api.request('POST', '/v1/grants', { json: { ...newPair(), scopes: ['openid'] }, headers: { 'idempotency-key': key } });
      const second = await api.request('POST', '/v1/grants', {
        token: otherCaller,
        json: { ...newPair(), scopes: ['openid'] },
        headers: { 'idempotency-key': key },
      });

      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.headers.get('idempotent-replayed')).toBeNull();
      expect(second.body.grant.grant_id).not.toBe(first.body.grant.grant_id);
    });
  });

  describe('when the first request with a key fails', () => {
    it('frees the key for a corrected retry', async () => {
      const key = randomUUID();
      const pair = newPair();
      const failed = await api.request('POST', '/v1/grants', { json: { ...pair, scopes: ['bad scope'] }, headers: { 'idempotency-key': key } });

      const corrected = await api.request('POST', '/v1/grants', { json: { ...pair, scopes: ['openid'] }, headers: { 'idempotency-key': key } });

      expect(failed.status).toBe(400);
      expect(corrected.status).toBe(201);
      const stored = await api.db.query('SELECT status_code FROM idempotency_records WHERE idempotency_key = $1', [key]);
      expect(stored.rows).toEqual([{ status_code: 201 }]);
    });
  });

  describe('when concurrent requests share a key', () => {
    it('runs the request once', async () => {
      const key = randomUUID();
      const body = { ...newPair(), scopes: ['openid'] };

      const responses = await Promise.all(
        Array.from({ length: 10 }, () => api.request('POST', '/v1/grants', { json: body, headers: { 'idempotency-key': key } })),
      );

      const executed = responses.filter((response) => response.status === 201 && response.headers.get('idempotent-replayed') === null);
      const replayed = responses.filter((response) => response.headers.get('idempotent-replayed') === 'true');
      const inProgress = responses.filter((response) => response.status === 409);
      expect(executed).toHaveLength(1);
      expect(replayed.length + inProgress.length).toBe(9);
      for (const response of replayed) expect(response.body).toEqual(executed[0].body);
      for (const response of inProgress) {
        expect(response.body.code).toBe('idempotency.request_in_progress');
        expect(response.headers.get('retry-after')).toBe('1');
      }
    });
  });

  describe('when the key is malformed', () => {
    it.each([
      ['an empty', ''],
      ['a space-separated', 'key with space'],
      ['a 256-character', 'k'.repeat(256)],
      ['a non-ASCII', 'schlüssel'],
    ])('rejects %s key with 400', async (_case, key) => {
      const response = await api.request('POST', '/v1/grants', {
        json: { ...newPair(), scopes: ['openid'] },
        headers: { 'idempotency-key': key },
      });

      expect(response.status).toBe(400);
      expect(response.body.code).toBe('request.invalid_idempotency_key');
      expect(response.body.field).toBe('Idempotency-Key');
    });
  });
});
