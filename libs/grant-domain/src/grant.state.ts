import type { RevokeReason } from './revoke-reason.js';

/** No event recorded for this grant id. */
export interface InitialGrant {
  status: 'initial';
}

export interface ActiveGrant {
  status: 'active';
  grantId: string;
  userId: string;
  clientId: string;
  scopes: string[];
  createdAt: string;
}

/** Terminal: a revoked grant never becomes active again; new consent creates a new grant id. */
export interface RevokedGrant {
  status: 'revoked';
  grantId: string;
  userId: string;
  clientId: string;
  scopes: string[];
  createdAt: string;
  revokedAt: string;
  reason: RevokeReason;
}

export type GrantState = InitialGrant | ActiveGrant | RevokedGrant;

export const initialGrantState: GrantState = { status: 'initial' };
