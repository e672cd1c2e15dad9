import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';

import type { GrantCommand } from '#grant-domain/grant.commands.js';
import { decide, evolve } from '#grant-domain/grant.decider.js';
import { initialGrantState } from '#grant-domain/grant.state.js';
import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';
import { GrantEventStore } from '#persistence/grant-event-store.js';

import { type ApiResponse, type GrantApi, startGrantApi } from '../grant-api/grant-api-harness.js';
import { openDataSource } from '../relay/grant-streams.js';

/** Instants of the histories below: T and the milliseconds around it. */
const T = '2025-03-01T12:00:00.000Z';
const justBefore = '2025-03-01T11:59:59.999Z';
const justAfter = '2025-03-01T12:00:00.001Z';

/** Runs grant commands at chosen instants, as the command handlers would at those times. */
class TimedGrants {
  private readonly store: GrantEventStore;

  constructor(dataSource: DataSource) {
    this.store = new GrantEventStore(dataSource);
  }

  async create(userId: string, clientId: string, scopes: string[], at: string): Promise<string> {
    const grantId = randomUUID();
    await this.run({ type: 'CreateGrant', grantId, userId, clientId, scopes, actor: { type: 'user', id: userId }, now: new Date(at) });
    return grantId;
  }

  changeScopes(grantId: string, scopes: string[], at: string): Promise<RecordedGrantEvent[]> {
    return this.run({ type: 'ChangeGrantScopes', grantId, scopes, actor: { type: 'admin', id: 'admin-1' }, now: new Date(at) });
  }

  revoke(grantId: string, at: string): Promise<RecordedGrantEvent[]> {
    return this.run({ type: 'RevokeGrant', grantId, reason: 'user', actor: { type: 'user', id: 'user-1' }, now: new Date(at) });
  }

  private async run(command: GrantCommand): Promise<RecordedGrantEvent[]> {
    const { version, events } = await this.store.readStream(command.grantId);
    const state = events.reduce((current, recorded) => evolve(current, recorded.event), initialGrantState);

    const decided = decide(command, state);

    return this.store.append(command.grantId, version, decided, {}, command.now);
  }
}

function expectProblem(response: ApiResponse, status: number, code: string, field?: string): void {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body.code).toBe(code);
  expect(response.body.field).toBe(field);
}

function grantIdsOf(response: ApiResponse): string[] {
  return response.body.items.map((item: { grant_id: string }) => item.grant_id);
}

describe('grants active at an instant', () => {
  let api: GrantApi;
  let dataSource: DataSource;
  let grants: TimedGrants;

  beforeAll(async () => {
    api = await startGrantApi('grants_active_at');
    dataSource = await openDataSource(api.database.url, 2);
    grants = new TimedGrants(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await api?.close();
  });

  const activeAt = (query: string) => api.request('GET', `/v1/grants/active-at?${query}`);

  describe('when grants are created and revoked around T', () => {
    const userId = 'user-boundaries';
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      ids.createdBefore = await grants.create(userId, 'client-a', ['openid'], justBefore);
      ids.createdAtT = await grants.create(userId, 'client-b', ['openid'], T);
      ids.createdAfter = await grants.create(userId, 'client-c', ['openid'], justAfter);
      ids.revokedAtT = await grants.create(userId, 'client-d', ['openid'], justBefore);
      await grants.revoke(ids.revokedAtT, T);
      ids.revokedAfter = await grants.create(userId, 'client-e', ['openid'], justBefore);
      await grants.revoke(ids.revokedAfter, justAfter);
      ids.revokedBefore = await grants.create(userId, 'client-f', ['openid'], '2025-03-01T11:00:00.000Z');
      await grants.revoke(ids.revokedBefore, justBefore);
    });

    it('lists a grant created at or before T', async () => {
      const response = await activeAt(`time=${T}&user_id=${userId}`);

      expect(response.status).toBe(200);
      expect(grantIdsOf(response)).toEqual(expect.arrayContaining([ids.createdBefore, ids.createdAtT]));
    });

    it('omits a grant created after T', async () => {
      const response = await activeAt(`time=${T}&user_id=${userId}`);

      expect(grantIdsOf(response)).not.toContain(ids.createdAfter);
    });

    it('omits a grant revoked at or before T', async () => {
      const response = await activeAt(`time=${T}&user_id=${userId}`);

      expect(grantIdsOf(response)).not.toContain(ids.revokedAtT);
      expect(grantIdsOf(response)).not.toContain(ids.revokedBefore);
    });

    it('lists a grant revoked after T as active', async () => {
      const response = await activeAt(`time=${T}&user_id=${userId}`);

      const item = response.body.items.find((entry: { grant_id: string }) => entry.grant_id === ids.revokedAfter);
      expect(item).toMatchObject({ status: 'active', revoked_at: null, revoke_reason: null, version: 1 });
    });

    it('returns exactly the active grants in grant id order', async () => {
      const response = await activeAt(`time=${T}&user_id=${userId}`);

      expect(grantIdsOf(response)).toEqual([ids.createdBefore, ids.createdAtT, ids.revokedAfter].sort());
      expect(response.body.time).toBe(T);
      expect(response.body.next_cursor).toBeNull();
    });

    it('moves the boundary with the time', async () => {
      const before = await activeAt(`time=${justBefore}&user_id=${userId}`);
      const after = await activeAt(`time=${justAfter}&user_id=${userId}`);

      expect(grantIdsOf(before)).toEqual([ids.createdBefore, ids.revokedAtT, ids.revokedAfter].sort());
      expect(grantIdsOf(after)).toEqual([ids.createdBefore, ids.createdAtT, ids.createdAfter].sort());
    });

    it('compares below the millisecond', async () => {
      const halfAfter = await activeAt(`time=2025-03-01T12:00:00.0005Z&user_id=${userId}`);
      const microBefore = await activeAt(`time=2025-03-01T11:59:59.999999Z&user_id=${userId}`);

      expect(grantIdsOf(halfAfter)).toEqual([ids.createdBefore, ids.createdAtT, ids.revokedAfter].sort());
      expect(halfAfter.body.time).toBe('2025-03-01T12:00:00.000500Z');
      expect(grantIdsOf(microBefore)).toEqual([ids.createdBefore, ids.revokedAtT, ids.revokedAfter].sort());
    });

    it('reads an offset time as the same instant', async () => {
      const response = await activeAt(`time=${encodeURIComponent('2025-03-01T13:00:00+01:00')}&user_id=${userId}`);

      expect(response.status).toBe(200);
      expect(response.body.time).toBe(T);
      expect(grantIdsOf(response)).toEqual([ids.createdBefore, ids.createdAtT, ids.revokedAfter].sort());
    });

    it('filters by client and by both', async () => {
      const byClient = await activeAt(`time=${T}&client_id=client-b`);
      const byBoth = await activeAt(`time=${T}&user_id=${userId}&client_id=client-e`);

      expect(grantIdsOf(byClient)).toEqual([ids.createdAtT]);
      expect(grantIdsOf(byBoth)).toEqual([ids.revokedAfter]);
    });

    it('returns an empty page for an unknown user', async () => {
      const response = await activeAt(`time=${T}&user_id=nobody-${randomUUID()}`);

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ time: T, items: [], next_cursor: null });
    });
  });

  describe('when scopes change around T', () => {
    const userId = 'user-scopes';
    let changedBefore: string;
    let changedAfter: string;

    beforeAll(async () => {
      changedBefore = await grants.create(userId, 'client-s1', ['openid'], '2025-03-01T10:00:00.000Z');
      await grants.changeScopes(changedBefore, ['email', 'openid'], justBefore);
      changedAfter = await grants.create(userId, 'client-s2', ['openid'], '2025-03-01T10:00:00.000Z');
      await grants.changeScopes(changedAfter, ['openid', 'profile'], justAfter);
    });

    it('shows the scopes of a change before T', async () => {
      const response = await activeAt(`time=${T}&user_id=${userId}`);

      const item = response.body.items.find((entry: { grant_id: string }) => entry.grant_id === changedBefore);
      expect(item).toMatchObject({ scopes: ['email', 'openid'], version: 2, updated_at: justBefore, created_at: '2025-03-01T10:00:00.000Z' });
    });

    it('shows the scopes before a change after T', async () => {
      const response = await activeAt(`time=${T}&user_id=${userId}`);

      const item = response.body.items.find((entry: { grant_id: string }) => entry.grant_id === changedAfter);
      expect(item).toMatchObject({ scopes: ['openid'], version: 1, updated_at: '2025-03-01T10:00:00.000Z' });
    });

    it('shows the position of the last event up to T', async () => {
      const [{ position }]: Array<{ position: string }> = await dataSource.query(
        'SELECT position::text AS position FROM grant_events WHERE grant_id = $1 AND version = 1',
        [changedAfter],
      );

      const response = await activeAt(`time=${T}&user_id=${userId}`);

      const item = response.body.items.find((entry: { grant_id: string }) => entry.grant_id === changedAfter);
      expect(item.position).toBe(position);
    });
  });

  describe('when the list spans several pages', () => {
    const clientId = 'client-paged';
    let expected: string[];

    beforeAll(async () => {
      expected = [];
      for (let index = 0; index < 5; index += 1) expected.push(await grants.create(`user-paged-${index}`, clientId, ['openid'], justBefore));
      const revoked = await grants.create('user-paged-revoked', clientId, ['openid'], justBefore);
      await grants.revoke(revoked, justBefore);
      expected.sort();
    });

    it('pages through every active grant with next_cursor', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const response: ApiResponse = await activeAt(`time=${T}&client_id=${clientId}&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
        expect(response.status).toBe(200);
        expect(response.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...grantIdsOf(response));
        cursor = response.body.next_cursor;
        pages += 1;
      } while (cursor !== null);

      expect(seen).toEqual(expected);
      expect(pages).toBe(3);
    });
  });

  describe('when the request is invalid', () => {
    it('rejects a missing time', async () => {
      const response = await activeAt('user_id=user-x');

      expectProblem(response, 400, 'request.invalid_parameter', 'time');
      expect(response.body.detail).toContain('time is missing');
    });

    it.each([
      ['a date without a time', '2025-03-01'],
      ['a time without an offset', '2025-03-01T12:00:00'],
      ['an impossible date', '2025-02-30T12:00:00Z'],
      ['hour 24', '2025-03-01T24:00:00Z'],
      ['a leap second', '2016-12-31T23:59:60Z'],
      ['an offset beyond 23 hours', '2025-03-01T12:00:00+24:00'],
      ['a year outside 0001 to 9999', '0000-01-01T00:30:00+01:00'],
      ['epoch seconds', '1740830400'],
    ])('rejects %s', async (_case, time) => {
      const response = await activeAt(`time=${encodeURIComponent(time)}&user_id=user-x`);

      expectProblem(response, 400, 'request.invalid_parameter', 'time');
      expect(response.body.detail).toContain('RFC 3339');
    });

    it('explains an unencoded plus sign in the offset', async () => {
      const response = await activeAt('time=2025-03-01T13:00:00+01:00&user_id=user-x');

      expectProblem(response, 400, 'request.invalid_parameter', 'time');
      expect(response.body.detail).toContain('%2B');
    });

    it('rejects a time given twice', async () => {
      const response = await activeAt(`time=${T}&time=${T}&user_id=user-x`);

      expectProblem(response, 400, 'request.invalid_parameter', 'time');
    });

    it('requires a user or a client', async () => {
      const response = await activeAt(`time=${T}`);

      expectProblem(response, 400, 'request.invalid_parameter', 'user_id');
    });

    it.each([['0'], ['201'], ['ten']])('rejects limit %s', async (limit) => {
      const response = await activeAt(`time=${T}&user_id=user-x&limit=${limit}`);

      expectProblem(response, 400, 'request.invalid_parameter', 'limit');
    });

    it('rejects a cursor that no page returned', async () => {
      const response = await activeAt(`time=${T}&user_id=user-x&cursor=not-a-cursor`);

      expectProblem(response, 400, 'request.invalid_parameter', 'cursor');
    });

    it('rejects an unknown parameter', async () => {
      const response = await activeAt(`time=${T}&user_id=user-x&status=active`);

      expectProblem(response, 400, 'request.invalid_parameter', 'status');
    });

    it('rejects a control character in user_id', async () => {
      const response = await activeAt(`time=${T}&user_id=${encodeURIComponent('user\u0007')}`);

      expectProblem(response, 400, 'grant.invalid_user_id', 'user_id');
    });

    it('requires an access token', async () => {
      const response = await api.request('GET', `/v1/grants/active-at?time=${T}&user_id=user-x`, { token: null });

      expectProblem(response, 401, 'auth.invalid_token');
    });

    it('requires the grants:read scope', async () => {
      const token = await api.token({ scope: 'grants:write' });

      const response = await api.request('GET', `/v1/grants/active-at?time=${T}&user_id=user-x`, { token });

      expectProblem(response, 403, 'auth.insufficient_scope');
    });

    it.each([['POST'], ['PUT'], ['PATCH'], ['DELETE']])('answers %s with 405 and Allow: GET', async (method) => {
      const response = await api.request(method, '/v1/grants/active-at');

      expectProblem(response, 405, 'request.method_not_allowed');
      expect(response.headers.get('allow')).toBe('GET');
    });
  });

  describe('when the schema is migrated', () => {
    it('indexes the creations by user and by client', async () => {
      const indexes: Array<{ indexname: string; indexdef: string }> = await dataSource.query(
        `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'grant_events' AND indexname LIKE 'grant_events_created_%' ORDER BY indexname`,
      );

      expect(indexes.map((index) => index.indexname)).toEqual(['grant_events_created_client_idx', 'grant_events_created_user_idx']);
      expect(indexes[1].indexdef).toContain(`(((data ->> 'userId'::text)), grant_id) WHERE (type = 'GrantCreated'::text)`);
    });
  });
});
