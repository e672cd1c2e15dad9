import type { Actor } from './actor.js';
import type { RevokeReason } from './revoke-reason.js';

/** Grant `clientId` access to `userId`'s resources with `scopes` (already a parsed scope set). */
export interface CreateGrant {
  type: 'CreateGrant';
  grantId: string;
  userId: string;
  clientId: string;
  scopes: string[];
  actor: Actor;
  now: Date;
}

/** Replace the scopes of an active grant. */
export interface ChangeGrantScopes {
  type: 'ChangeGrantScopes';
  grantId: string;
  scopes: string[];
  actor: Actor;
  now: Date;
}

/** End a grant; every token of it stops working. */
export interface RevokeGrant {
  type: 'RevokeGrant';
  grantId: string;
  reason: RevokeReason;
  actor: Actor;
  now: Date;
}

export type GrantCommand = CreateGrant | ChangeGrantScopes | RevokeGrant;
