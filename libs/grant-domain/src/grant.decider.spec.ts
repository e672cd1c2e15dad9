import type { Actor } from './actor.js';
import type { GrantCommand } from './grant.commands.js';
import { decide, evolve } from './grant.decider.js';
import type { GrantEvent } from './grant.events.js';
import { type GrantState, initialGrantState } from './grant.state.js';
import { GrantError, type GrantErrorCode } from './grant-error.js';

const grantId = '5f0c6a55-8a4e-4f43-9a57-2a8f0f7c1e01';
const otherGrantId = '9b1d2e3f-0a4b-4c5d-8e6f-7a8b9c0d1e2f';
const userActor: Actor = { type: 'user', id: 'user-1' };
const adminActor: Actor = { type: 'admin', id: 'admin-7' };
const createdAt = new Date('2025-03-01T10:00:00.000Z');
const now = new Date('2025-03-02T12:30:00.000Z');

const grantCreated: GrantEvent = {
  type: 'GrantCreated',
  data: {
    grantId,
    userId: 'user-1',
    clientId: 'client-a',
    scopes: ['offline_access', 'openid'],
    actor: userActor,
    occurredAt: createdAt.toISOString(),
  },
};

const grantRevoked: GrantEvent = {
  type: 'GrantRevoked',
  data: {
    grantId,
    userId: 'user-1',
    clientId: 'client-a',
    scopes: ['offline_access', 'openid'],
    reason: 'user',
    actor: userActor,
    occurredAt: now.toISOString(),
  },
};

function given(...events: GrantEvent[]): GrantState {
  return events.reduce(evolve, initialGrantState);
}

function errorCodeOf(run: () => unknown): GrantErrorCode | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof GrantError) return error.code;
    throw error;
  }
  return undefined;
}

const create = (scopes: string[]): GrantCommand => ({
  type: 'CreateGrant',
  grantId: otherGrantId,
  userId: 'user-1',
  clientId: 'client-a',
  scopes,
  actor: userActor,
  now,
});

const changeScopes = (scopes: string[]): GrantCommand => ({ type: 'ChangeGrantScopes', grantId, scopes, actor: adminActor, now });

const revoke: GrantCommand = { type: 'RevokeGrant', grantId, reason: 'admin', actor: adminActor, now };

describe('when a grant is created', () => {
  it('records GrantCreated for an unknown grant', () => {
    const events = decide(create(['offline_access', 'openid']), given());

    expect(events).toEqual([
      {
        type: 'GrantCreated',
        data: {
          grantId: otherGrantId,
          userId: 'user-1',
          clientId: 'client-a',
          scopes: ['offline_access', 'openid'],
          actor: userActor,
          occurredAt: now.toISOString(),
        },
      },
    ]);
  });

  it('records nothing for an active grant with the same scopes', () => {
    expect(decide(create(['offline_access', 'openid']), given(grantCreated))).toEqual([]);
  });

  it('records GrantScopesChanged on the active grant for other scopes', () => {
    const events = decide(create(['openid', 'profile']), given(grantCreated));

    expect(events).toEqual([
      {
        type: 'GrantScopesChanged',
        data: {
          grantId,
          userId: 'user-1',
          clientId: 'client-a',
          scopes: ['openid', 'profile'],
          previousScopes: ['offline_access', 'openid'],
          actor: userActor,
          occurredAt: now.toISOString(),
        },
      },
    ]);
  });

  it('rejects a revoked grant with grant.revoked', () => {
    expect(errorCodeOf(() => decide(create(['openid']), given(grantCreated, grantRevoked)))).toBe('grant.revoked');
  });
});

describe('when the scopes of a grant are changed', () => {
  it('rejects an unknown grant with grant.not_found', () => {
    expect(errorCodeOf(() => decide(changeScopes(['openid']), given()))).toBe('grant.not_found');
  });

  it('rejects a revoked grant with grant.revoked', () => {
    expect(errorCodeOf(() => decide(changeScopes(['openid']), given(grantCreated, grantRevoked)))).toBe('grant.revoked');
  });

  it('records nothing for the same scopes', () => {
    expect(decide(changeScopes(['offline_access', 'openid']), given(grantCreated))).toEqual([]);
  });

  it('records the new and previous scopes', () => {
    const [event] = decide(changeScopes(['email']), given(grantCreated));

    expect(event.type).toBe('GrantScopesChanged');
    expect(event.data).toMatchObject({ scopes: ['email'], previousScopes: ['offline_access', 'openid'], actor: adminActor });
  });
});

describe('when a grant is revoked', () => {
  it('rejects an unknown grant with grant.not_found', () => {
    expect(errorCodeOf(() => decide(revoke, given()))).toBe('grant.not_found');
  });

  it('records GrantRevoked with reason, actor and scopes', () => {
    const events = decide(revoke, given(grantCreated));

    expect(events).toEqual([
      {
        type: 'GrantRevoked',
        data: {
          grantId,
          userId: 'user-1',
          clientId: 'client-a',
          scopes: ['offline_access', 'openid'],
          reason: 'admin',
          actor: adminActor,
          occurredAt: now.toISOString(),
        },
      },
    ]);
  });

  it('records nothing for a revoked grant', () => {
    expect(decide(revoke, given(grantCreated, grantRevoked))).toEqual([]);
  });
});

describe('when events are folded into state', () => {
  it('makes a created grant active', () => {
    expect(given(grantCreated)).toEqual({
      status: 'active',
      grantId,
      userId: 'user-1',
      clientId: 'client-a',
      scopes: ['offline_access', 'openid'],
      createdAt: createdAt.toISOString(),
    });
  });

  it('replaces the scopes on GrantScopesChanged', () => {
    const [changed] = decide(changeScopes(['email']), given(grantCreated));

    const state = given(grantCreated, changed);

    expect(state).toMatchObject({ status: 'active', scopes: ['email'] });
  });

  it('keeps the revocation time and reason', () => {
    expect(given(grantCreated, grantRevoked)).toMatchObject({
      status: 'revoked',
      revokedAt: now.toISOString(),
      reason: 'user',
    });
  });

  it('leaves a revoked grant revoked on later events', () => {
    const lateChange: GrantEvent = {
      type: 'GrantScopesChanged',
      data: { ...grantCreated.data, scopes: ['email'], previousScopes: ['openid'], occurredAt: now.toISOString() },
    };

    const state = given(grantCreated, grantRevoked, lateChange);

    expect(state).toMatchObject({ status: 'revoked', scopes: ['offline_access', 'openid'] });
  });
});
