import type { ChangeGrantScopes, CreateGrant, GrantCommand, RevokeGrant } from './grant.commands.js';
import type { GrantEvent } from './grant.events.js';
import type { GrantState } from './grant.state.js';
import { GrantError } from './grant-error.js';
import { sameScopes } from './scope-set.js';

/**
 * Decides which events a command records on a grant in `state`. An empty list means the command
 * is already satisfied (the same scopes again, a revoke of a revoked grant).
 */
export function decide(command: GrantCommand, state: GrantState): GrantEvent[] {
  switch (command.type) {
    case 'CreateGrant':
      return decideCreate(command, state);
    case 'ChangeGrantScopes':
      return decideChangeScopes(command, state);
    case 'RevokeGrant':
      return decideRevoke(command, state);
    default:
      return assertNever(command);
  }
}

/** Folds one recorded event into the state. */
export function evolve(state: GrantState, event: GrantEvent): GrantState {
  switch (event.type) {
    case 'GrantCreated':
      return {
        status: 'active',
        grantId: event.data.grantId,
        userId: event.data.userId,
        clientId: event.data.clientId,
        scopes: event.data.scopes,
        createdAt: event.data.occurredAt,
      };
    case 'GrantScopesChanged':
      return state.status === 'active' ? { ...state, scopes: event.data.scopes } : state;
    case 'GrantRevoked':
      return state.status === 'active'
        ? { ...state, status: 'revoked', revokedAt: event.data.occurredAt, reason: event.data.reason }
        : state;
    default:
      return assertNever(event);
  }
}

function decideCreate(command: CreateGrant, state: GrantState): GrantEvent[] {
  switch (state.status) {
    case 'initial':
      return [
        {
          type: 'GrantCreated',
          data: {
            grantId: command.grantId,
            userId: command.userId,
            clientId: command.clientId,
            scopes: command.scopes,
            actor: command.actor,
            occurredAt: command.now.toISOString(),
          },
        },
      ];
    case 'active':
      return decideChangeScopes({ ...command, type: 'ChangeGrantScopes', grantId: state.grantId }, state);
    case 'revoked':
      throw revokedError(state.grantId);
    default:
      return assertNever(state);
  }
}

function decideChangeScopes(command: ChangeGrantScopes, state: GrantState): GrantEvent[] {
  switch (state.status) {
    case 'initial':
      throw notFoundError(command.grantId);
    case 'revoked':
      throw revokedError(state.grantId);
    case 'active':
      if (sameScopes(state.scopes, command.scopes)) return [];
      return [
        {
          type: 'GrantScopesChanged',
          data: {
            grantId: state.grantId,
            userId: state.userId,
            clientId: state.clientId,
            scopes: command.scopes,
            previousScopes: state.scopes,
            actor: command.actor,
            occurredAt: command.now.toISOString(),
          },
        },
      ];
    default:
      return assertNever(state);
  }
}

function decideRevoke(command: RevokeGrant, state: GrantState): GrantEvent[] {
  switch (state.status) {
    case 'initial':
      throw notFoundError(command.grantId);
    case 'revoked':
      return [];
    case 'active':
      return [
        {
          type: 'GrantRevoked',
          data: {
            grantId: state.grantId,
            userId: state.userId,
            clientId: state.clientId,
            scopes: state.scopes,
            reason: command.reason,
            actor: command.actor,
            occurredAt: command.now.toISOString(),
          },
        },
      ];
    default:
      return assertNever(state);
  }
}

function notFoundError(grantId: string): GrantError {
  return new GrantError('grant.not_found', `grant ${grantId} was not found`, 'grant_id');
}

function revokedError(grantId: string): GrantError {
  return new GrantError('grant.revoked', `grant ${grantId} is revoked; a new consent creates a new grant`, 'grant_id');
}

function assertNever(value: never): never {
  throw new TypeError(`unhandled variant: ${JSON.stringify(value)}`);
}
