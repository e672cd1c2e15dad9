import { Inject, Injectable } from '@nestjs/common';

import { TokenServiceError } from '../common/token-service-error.js';
import type { OAuthClient } from '../clients/oauth-client.js';
import { ActiveGrants } from '../grants/active-grants.js';
import { GrantLastUsed } from '../grants/grant-last-used.js';
import type { ProjectedGrant } from '../grants/grant-projection.js';
import { type OfflineRefreshTokenClaims, scopeSet } from '../tokens/token-formats.js';
import { TokenVerifier } from '../tokens/token-verifier.js';

export const offlineAccessScope = 'offline_access';

/** An offline refresh token that passed every rule, with what its use may yield. */
export interface ValidOfflineToken {
  claims: OfflineRefreshTokenClaims;
  grant: ProjectedGrant;
  /** The token's scopes that the grant still holds. */
  usableScopes: string[];
  /** End of the grant's maximum lifetime, when the client sets one. */
  grantEndsAt?: Date;
}

/** A grant that has outlived its client's idle timeout or maximum lifetime; callers revoke it as expired. */
export class GrantExpiredError extends TokenServiceError {
  constructor(
    code: 'token.idle_timeout_exceeded' | 'token.max_lifetime_exceeded',
    message: string,
    readonly grantId: string,
  ) {
    super(code, message, 'refresh_token');
  }
}

/** When a grant's maximum lifetime ends under `client`'s policy, if it has one. */
export function grantEndsAt(client: OAuthClient, grant: Pick<ProjectedGrant, 'createdAt'>): Date | undefined {
  return client.offlineMaxLifetimeSeconds === null
    ? undefined
    : new Date(grant.createdAt.getTime() + client.offlineMaxLifetimeSeconds * 1000);
}

/**
 * The one predicate behind refresh, introspection and revocation checks. An offline refresh token
 * is usable only while its signature, type and issuer are valid and it belongs to `client`. Its
 * grant must be active, match the token, include offline_access, and be within the client's idle
 * timeout and maximum lifetime. Otherwise it raises TokenServiceError with a `token.*` code.
 *
 * The grant comes from this instance's in-memory state (ActiveGrants), which reads the projection
 * only for a grant it does not know. An idle timeout is declared only after the stored last use,
 * which other instances move, confirms it.
 */
@Injectable()
export class OfflineTokenPolicy {
  constructor(
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
    @Inject(ActiveGrants) private readonly grants: ActiveGrants,
    @Inject(GrantLastUsed) private readonly lastUsed: GrantLastUsed,
  ) {}

  async validate(token: string, client: OAuthClient, now: Date): Promise<ValidOfflineToken> {
    const { claims } = await this.verifier.verifyRefreshToken(token);
    return this.check(claims, client, now);
  }

  /** Applies the grant rules to the claims of a refresh token whose signature, type and issuer were verified. */
  async check(claims: OfflineRefreshTokenClaims, client: OAuthClient, now: Date): Promise<ValidOfflineToken> {
    if (claims.client_id !== client.clientId) {
      throw new TokenServiceError('token.client_mismatch', 'the refresh token was issued to another client', 'refresh_token');
    }

    const grant = await this.grants.find(claims.grant_id);
    if (!grant) {
      throw new TokenServiceError('token.grant_not_found', `grant ${claims.grant_id} of the refresh token was not found`, 'refresh_token');
    }
    if (grant.status !== 'active') {
      throw new TokenServiceError('token.grant_revoked', `grant ${claims.grant_id} of the refresh token is revoked`, 'refresh_token');
    }
    if (grant.clientId !== claims.client_id || grant.userId !== claims.sub) {
      throw new TokenServiceError('token.grant_mismatch', 'the refresh token does not match its grant', 'refresh_token');
    }
    if (!grant.scopes.includes(offlineAccessScope)) {
      throw new TokenServiceError('token.offline_access_missing', `grant ${grant.grantId} no longer includes offline_access`, 'refresh_token');
    }

    const endsAt = grantEndsAt(client, grant);
    const nowMs = now.getTime();
    if ((endsAt && nowMs >= endsAt.getTime()) || (claims.exp !== undefined && nowMs >= claims.exp * 1000)) {
      throw new GrantExpiredError('token.max_lifetime_exceeded', `grant ${grant.grantId} has passed its maximum lifetime`, grant.grantId);
    }
    if (client.offlineIdleTimeoutSeconds !== null) {
      const idleMs = (lastUsedAt: Date | null) => nowMs - (lastUsedAt ?? grant.createdAt).getTime();
      const timeoutMs = client.offlineIdleTimeoutSeconds * 1000;
      if (idleMs(grant.lastUsedAt) > timeoutMs) {
        const latestUse = await this.lastUsed.latestUse(grant.grantId, grant.lastUsedAt);
        if (idleMs(latestUse) > timeoutMs) {
          throw new GrantExpiredError('token.idle_timeout_exceeded', `grant ${grant.grantId} was unused for longer than its idle timeout`, grant.grantId);
        }
        grant.lastUsedAt = latestUse;
      }
    }

    const grantScopes = new Set(grant.scopes);
    const usableScopes = [...scopeSet(claims.scope)].filter((scope) => grantScopes.has(scope)).sort();
    return { claims, grant, usableScopes, grantEndsAt: endsAt };
  }
}
