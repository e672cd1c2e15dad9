import type { Actor } from './actor.js';
import type { RevokeReason } from './revoke-reason.js';

interface GrantEventData {
  grantId: string;
  userId: string;
  clientId: string;
  actor: Actor;
  /** ISO 8601 instant at which the command was decided. */
  occurredAt: string;
}

export interface GrantCreated {
  type: 'GrantCreated';
  data: GrantEventData & { scopes: string[] };
}

/** Carries the whole new scope set, so that a reader needs no earlier event to know the scopes. */
export interface GrantScopesChanged {
  type: 'GrantScopesChanged';
  data: GrantEventData & { scopes: string[]; previousScopes: string[] };
}

export interface GrantRevoked {
  type: 'GrantRevoked';
  data: GrantEventData & { scopes: string[]; reason: RevokeReason };
}

export type GrantEvent = GrantCreated | GrantScopesChanged | GrantRevoked;
export type GrantEventType = GrantEvent['type'];
export const grantEventTypes: readonly GrantEventType[] = ['GrantCreated', 'GrantScopesChanged', 'GrantRevoked'];
