import { randomUUID } from 'node:crypto';

import { ActiveGrantTable, type GrantChange } from './active-grant-table.js';

const grantId = '6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f';
const createdAtMs = Date.parse('2026-01-02T03:04:05.000Z');

function created(overrides: Partial<GrantChange> = {}): GrantChange {
  return {
    kind: 'created',
    grantId,
    version: 1,
    position: 10,
    userId: 'user-1',
    clientId: 'client-1',
    scopes: ['openid', 'offline_access'],
    occurredAtMs: createdAtMs,
    ...overrides,
  } as GrantChange;
}

function scopesChanged(version: number, scopes: string[]): GrantChange {
  return { kind: 'scopes_changed', grantId, version, position: 10 + version, userId: 'user-1', clientId: 'client-1', scopes };
}

function revoked(version: number): GrantChange {
  return { kind: 'revoked', grantId, version, position: 10 + version, userId: 'user-1', clientId: 'client-1', scopes: ['offline_access', 'openid'] };
}

describe('ActiveGrantTable', () => {
  describe('when events arrive in order', () => {
    it('stores a created grant with sorted scopes', () => {
      const table = new ActiveGrantTable();
      expect(table.apply(created())).toBe(true);
      expect(table.get(grantId)).toEqual({
        grantId,
        userId: 'user-1',
        clientId: 'client-1',
        scopes: ['offline_access', 'openid'],
        status: 'active',
        createdAtMs,
        version: 1,
        position: 10,
        lastUsedAtMs: null,
      });
    });

    it('changes scopes, then revokes', () => {
      const table = new ActiveGrantTable();
      table.apply(created());
      table.apply(scopesChanged(2, ['openid']));
      expect(table.get(grantId)).toMatchObject({ scopes: ['openid'], status: 'active', version: 2 });
      table.apply(revoked(3));
      expect(table.get(grantId)).toMatchObject({ status: 'revoked', version: 3, createdAtMs });
    });
  });

  describe('when events are redelivered or out of order', () => {
    it('skips a version it already holds', () => {
      const table = new ActiveGrantTable();
      table.apply(created());
      table.apply(scopesChanged(2, ['openid']));
      expect(table.apply(scopesChanged(2, ['openid', 'profile']))).toBe(false);
      expect(table.apply(created())).toBe(false);
      expect(table.get(grantId)?.scopes).toEqual(['openid']);
    });

    it('keeps a revocation seen before the creation', () => {
      const table = new ActiveGrantTable();
      table.apply(revoked(2));
      expect(table.apply(created())).toBe(false);
      expect(table.get(grantId)?.status).toBe('revoked');
    });

    it('keeps a revocation when a later version changes scopes', () => {
      const table = new ActiveGrantTable();
      table.apply(created());
      table.apply(revoked(2));
      expect(table.apply(scopesChanged(3, ['openid']))).toBe(true);
      expect(table.get(grantId)).toMatchObject({ status: 'revoked', version: 3 });
    });

    it('leaves the creation time unknown until GrantCreated', () => {
      const table = new ActiveGrantTable();
      table.apply(scopesChanged(2, ['openid']));
      expect(Number.isNaN(table.get(grantId)?.createdAtMs)).toBe(true);
      table.apply(created());
      expect(table.get(grantId)?.createdAtMs).toBe(createdAtMs);
    });
  });

  describe('when a projection row is merged', () => {
    const row = {
      grantId,
      userId: 'user-1',
      clientId: 'client-1',
      scopes: ['offline_access', 'openid', 'profile'],
      status: 'active' as const,
      createdAtMs,
      version: 2,
      position: 12,
      lastUsedAtMs: createdAtMs + 5000,
    };

    it('takes a newer row and keeps the later last use', () => {
      const table = new ActiveGrantTable();
      table.apply(created());
      table.recordLastUse(grantId, createdAtMs + 9000);
      table.merge(row);
      expect(table.get(grantId)).toMatchObject({ scopes: ['offline_access', 'openid', 'profile'], version: 2, lastUsedAtMs: createdAtMs + 9000 });
    });

    it('ignores an older row but takes its creation time', () => {
      const table = new ActiveGrantTable();
      table.apply(scopesChanged(3, ['openid']));
      table.merge(row);
      expect(table.get(grantId)).toMatchObject({ scopes: ['openid'], version: 3, createdAtMs, lastUsedAtMs: createdAtMs + 5000 });
    });

    it('never revives a revoked grant', () => {
      const table = new ActiveGrantTable();
      table.markRevoked(grantId);
      table.merge({ ...row, version: 9 });
      expect(table.get(grantId)?.status).toBe('revoked');
    });
  });

  describe('when the start-up load adds rows', () => {
    it('stores scopes given as text', () => {
      const table = new ActiveGrantTable();
      table.loadActive(grantId, 'user-1', 'client-1', 'openid offline_access', createdAtMs, 4, 40, null);
      const other = randomUUID();
      table.loadActive(other, 'user-2', 'client-1', 'openid offline_access', createdAtMs, 1, 41, createdAtMs + 1000);

      expect(table.get(grantId)).toMatchObject({ scopes: ['offline_access', 'openid'], status: 'active', version: 4, lastUsedAtMs: null });
      expect(table.get(other)).toMatchObject({ userId: 'user-2', version: 1, lastUsedAtMs: createdAtMs + 1000 });
      expect(table.get(other)?.scopes).toBe(table.get(grantId)?.scopes);
    });

    it('keeps a revocation applied before the row loads', () => {
      const table = new ActiveGrantTable();
      table.apply(revoked(2));
      table.loadActive(grantId, 'user-1', 'client-1', 'openid', createdAtMs, 1, 10, null);
      expect(table.get(grantId)).toMatchObject({ status: 'revoked', version: 2, createdAtMs });
    });
  });

  describe('when a revocation is marked without its event', () => {
    it('revokes known and unknown grants', () => {
      const table = new ActiveGrantTable();
      table.apply(created());
      table.markRevoked(grantId);
      expect(table.get(grantId)).toMatchObject({ status: 'revoked', version: 1 });

      const unknown = randomUUID();
      table.markRevoked(unknown);
      expect(table.get(unknown)).toMatchObject({ status: 'revoked', version: 0 });
      expect(table.size).toBe(2);
    });
  });

  describe('when last uses are recorded', () => {
    it('moves the last use forward only', () => {
      const table = new ActiveGrantTable();
      table.apply(created());
      table.recordLastUse(grantId, createdAtMs + 2000);
      table.recordLastUse(grantId, createdAtMs + 1000);
      expect(table.get(grantId)?.lastUsedAtMs).toBe(createdAtMs + 2000);
    });
  });

  describe('when grant ids are looked up', () => {
    it('finds an id in upper case and rejects non-UUIDs', () => {
      const table = new ActiveGrantTable();
      table.apply(created());
      expect(table.get(grantId.toUpperCase())?.grantId).toBe(grantId);
      expect(table.get('not-a-uuid')).toBeUndefined();
      expect(table.versionOf(`${grantId}0`)).toBeUndefined();
      expect(() => table.apply(created({ grantId: 'not-a-uuid' }))).toThrow(TypeError);
    });

    it('holds 100000 grants, including ids that share their first 96 bits', () => {
      const table = new ActiveGrantTable();
      const ids = Array.from({ length: 50_000 }, () => randomUUID());
      // Time-ordered ids share their leading words; only the last word differs here.
      for (let index = 0; index < 50_000; index += 1) ids.push(`01890000-0000-7000-8000-${index.toString(16).padStart(12, '0')}`);
      ids.forEach((id, index) => table.apply(created({ grantId: id, version: 1 + (index % 3), userId: `user-${index % 1000}` })));

      expect(table.size).toBe(100_000);
      const wrong = ids.filter((id, index) => {
        const state = table.get(id);
        return state?.version !== 1 + (index % 3) || state.userId !== `user-${index % 1000}`;
      });
      expect(wrong).toEqual([]);
      expect(table.get(randomUUID())).toBeUndefined();
    });
  });
});
