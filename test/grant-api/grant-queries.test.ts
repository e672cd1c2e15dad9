import { randomUUID } from 'node:crypto';

import { type GrantApi, seedProjection, startGrantApi } from './grant-api-harness.js';

// The grant projector is not running in these tests: rows of the `grants` projection are written
// directly as fixtures, standing in for what the projector would have applied.

/** `count` UUIDs in ascending order, the order the list pages by. */
function sortedGrantIds(count: number): string[] {
  return Array.from({ length: count }, () => randomUUID()).sort();
}

describe('grant queries over REST', () => {
  let api: GrantApi;

  beforeAll(async () => {
    api = await startGrantApi('grant_queries', { GRANT_API_MIN_POSITION_WAIT_MS: '1000' });
  });

  afterAll(async () => {
    await api.close();
  });

  describe('when a grant is read from the projection', () => {
    it('returns every field of the row', async () => {
      const grantId = randomUUID();
      await seedProjection(api.db, {
        grantId,
        userId: 'user-q1',
        clientId: 'client-q1',
        scopes: ['email', 'openid'],
        status: 'revoked',
        createdAt: new Date('2025-02-01T08:00:00.000Z'),
        updatedAt: new Date('2025-02-03T09:30:00.000Z'),
        revokedAt: new Date('2025-02-03T09:30:00.000Z'),
        revokeReason: 'user',
        version: 3,
        position: 9_007_199_254_740_993n,
      });

      const response = await api.request('GET', `/v1/grants/${grantId}`);

      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        grant_id: grantId,
        user_id: 'user-q1',
        client_id: 'client-q1',
        scopes: ['email', 'openid'],
        status: 'revoked',
        created_at: '2025-02-01T08:00:00.000Z',
        updated_at: '2025-02-03T09:30:00.000Z',
        revoked_at: '2025-02-03T09:30:00.000Z',
        revoke_reason: 'user',
        version: 3,
        position: '9007199254740993',
      });
    });

    it('accepts the grant id in upper case', async () => {
      const grantId = randomUUID();
      await seedProjection(api.db, { grantId, userId: 'user-q2', clientId: 'client-q2', scopes: ['openid'], position: 1n });

      const response = await api.request('GET', `/v1/grants/${grantId.toUpperCase()}`);

      expect(response.status).toBe(200);
      expect(response.body.grant_id).toBe(grantId);
    });

    it('responds 404 grant.not_found for an unknown grant', async () => {
      const response = await api.request('GET', `/v1/grants/${randomUUID()}`);

      expect(response.status).toBe(404);
      expect(response.body.code).toBe('grant.not_found');
      expect(response.body.field).toBe('grant_id');
    });
  });

  describe('when a read waits for min_position', () => {
    /** Creates a grant, projects its creation, then changes its scopes without projecting that. */
    async function grantWithUnprojectedChange() {
      const pair = { user_id: `user-${randomUUID()}`, client_id: 'client-min' };
      const created = await api.request('POST', '/v1/grants', { json: { ...pair, scopes: ['openid'] } });
      const grantId: string = created.body.grant.grant_id;
      await seedProjection(api.db, {
        grantId,
        userId: pair.user_id,
        clientId: pair.client_id,
        scopes: ['openid'],
        version: 1,
        position: created.body.position,
      });
      const changed = await api.request('PATCH', `/v1/grants/${grantId}`, { json: { scopes: ['openid', 'email'] } });
      return { grantId, pair, createdPosition: created.body.position as string, changedPosition: changed.body.position as string };
    }

    it('responds 503 with Retry-After while the projection is behind', async () => {
      const { grantId, changedPosition } = await grantWithUnprojectedChange();

      const response = await api.request('GET', `/v1/grants/${grantId}?min_position=${changedPosition}`);

      expect(response.status).toBe(503);
      expect(response.body.code).toBe('projection.behind');
      expect(response.headers.get('retry-after')).toBe('1');
      expect(response.body.detail).toContain(changedPosition);
    });

    it('returns the row once the projection catches up', async () => {
      const { grantId, pair, changedPosition } = await grantWithUnprojectedChange();

      const read = api.request('GET', `/v1/grants/${grantId}?min_position=${changedPosition}`);
      await seedProjection(api.db, {
        grantId,
        userId: pair.user_id,
        clientId: pair.client_id,
        scopes: ['email', 'openid'],
        version: 2,
        position: changedPosition,
      });
      const response = await read;

      expect(response.status).toBe(200);
      expect(response.body.scopes).toEqual(['email', 'openid']);
      expect(response.body.position).toBe(changedPosition);
    });

    it('accepts a row at the latest earlier event', async () => {
      const { grantId, createdPosition, changedPosition } = await grantWithUnprojectedChange();

      const before = await api.request('GET', `/v1/grants/${grantId}?min_position=${BigInt(changedPosition) - 1n}`);

      expect(before.status).toBe(200);
      expect(before.body.position).toBe(createdPosition);
    });

    it('does not wait for a position before the grant existed', async () => {
      const { grantId, createdPosition } = await grantWithUnprojectedChange();

      const response = await api.request('GET', `/v1/grants/${grantId}?min_position=0`);

      expect(response.status).toBe(200);
      expect(response.body.position).toBe(createdPosition);
    });

    it.each([['abc'], ['-1'], ['1.5'], ['9223372036854775808']])('rejects min_position=%s with 400', async (value) => {
      const response = await api.request('GET', `/v1/grants/${randomUUID()}?min_position=${value}`);

      expect(response.status).toBe(400);
      expect(response.body.code).toBe('request.invalid_parameter');
      expect(response.body.field).toBe('min_position');
    });
  });

  describe('when grants are listed', () => {
    const userId = 'user-list';
    const grantIds = sortedGrantIds(5);
    const otherClientGrantId = randomUUID();

    beforeAll(async () => {
      for (const [index, grantId] of grantIds.entries()) {
        await seedProjection(api.db, {
          grantId,
          userId,
          clientId: index % 2 === 0 ? 'client-even' : 'client-odd',
          scopes: ['openid'],
          status: index === 4 ? 'revoked' : 'active',
          revokeReason: index === 4 ? 'admin' : null,
          position: BigInt(100 + index),
        });
      }
      await seedProjection(api.db, { grantId: otherClientGrantId, userId: 'user-other', clientId: 'client-even', scopes: ['openid'], position: 200n });
    });

    it("pages through a user's grants by cursor", async () => {
      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const query: string = `/v1/grants?user_id=${userId}&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`;
        const response = await api.request('GET', query);
        expect(response.status).toBe(200);
        pages.push(response.body.items.map((item: { grant_id: string }) => item.grant_id));
        cursor = response.body.next_cursor;
      } while (cursor !== null && pages.length < 10);

      expect(pages).toEqual([grantIds.slice(0, 2), grantIds.slice(2, 4), grantIds.slice(4)]);
    });

    it('returns no next_cursor when the page is the last', async () => {
      const response = await api.request('GET', `/v1/grants?user_id=${userId}`);

      expect(response.body.items).toHaveLength(5);
      expect(response.body.next_cursor).toBeNull();
    });

    it("lists a client's grants across users", async () => {
      const response = await api.request('GET', '/v1/grants?client_id=client-even');

      const listed = response.body.items.map((item: { grant_id: string }) => item.grant_id);
      expect(listed).toEqual([grantIds[0], grantIds[2], grantIds[4], otherClientGrantId].sort());
    });

    it('combines user, client and status filters', async () => {
      const response = await api.request('GET', `/v1/grants?user_id=${userId}&client_id=client-even&status=active`);

      const listed = response.body.items.map((item: { grant_id: string }) => item.grant_id);
      expect(listed).toEqual([grantIds[0], grantIds[2]]);
    });

    it('lists only revoked grants on status=revoked', async () => {
      const response = await api.request('GET', `/v1/grants?user_id=${userId}&status=revoked`);

      expect(response.body.items).toHaveLength(1);
      expect(response.body.items[0]).toMatchObject({ grant_id: grantIds[4], status: 'revoked', revoke_reason: 'admin' });
    });

    it.each([
      ['no user_id or client_id', '/v1/grants', 'user_id'],
      ['limit=0', `/v1/grants?user_id=${userId}&limit=0`, 'limit'],
      ['limit=201', `/v1/grants?user_id=${userId}&limit=201`, 'limit'],
      ['limit=ten', `/v1/grants?user_id=${userId}&limit=ten`, 'limit'],
      ['status=expired', `/v1/grants?user_id=${userId}&status=expired`, 'status'],
      ['a forged cursor', `/v1/grants?user_id=${userId}&cursor=bm90LWEtdXVpZA`, 'cursor'],
      ['an unknown parameter', `/v1/grants?user_id=${userId}&sort=desc`, 'sort'],
    ])('rejects %s with 400', async (_case, path, field) => {
      const response = await api.request('GET', path);

      expect(response.status).toBe(400);
      expect(response.body.code).toBe('request.invalid_parameter');
      expect(response.body.field).toBe(field);
    });

    it('rejects a user_id with a control character with 400 grant.invalid_user_id', async () => {
      const response = await api.request('GET', '/v1/grants?user_id=user%07x');

      expect(response.status).toBe(400);
      expect(response.body.code).toBe('grant.invalid_user_id');
    });
  });
});
