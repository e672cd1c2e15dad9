import type { Actor } from '#grant-domain/actor.js';
import type { RevokeReason } from '#grant-domain/revoke-reason.js';

/**
 * Port to the grant service, which owns grants. The token service never changes the projection
 * itself but requests a RevokeGrant command.
 */
export interface GrantRevoker {
  /** Revokes a grant; an unknown or already revoked grant counts as done. */
  revoke(grantId: string, reason: RevokeReason, actor: Actor): Promise<void>;

  /** Starts the revocation of every grant of a deleted client, with reason client_removed. */
  revokeClientGrants(clientId: string): Promise<void>;
}

export const GRANT_REVOKER = Symbol('GRANT_REVOKER');
