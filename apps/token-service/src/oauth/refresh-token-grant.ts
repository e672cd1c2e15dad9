import { Inject, Injectable, Logger } from '@nestjs/common';

import type { OAuthClient } from '../clients/oauth-client.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { TokenServiceError } from '../common/token-service-error.js';
import { ProjectionFreshness } from '../freshness/projection-freshness.js';
import { GrantLastUsed } from '../grants/grant-last-used.js';
import { GRANT_REVOKER, type GrantRevoker } from '../grants/grant-revoker.js';
import { GrantExpiredError, OfflineTokenPolicy } from '../offline-tokens/offline-token-policy.js';
import { TokenSigner } from '../tokens/token-signer.js';
import { OAuthError } from './oauth-error.js';
import type { OAuthForm } from './oauth-form.js';
import { parseScopeParameter } from './scope-parameter.js';
import type { TokenResponse } from './token-response.js';

/**
 * `grant_type=refresh_token` (RFC 6749 §6) with an offline refresh token: checks it with the
 * shared OfflineTokenPolicy and issues an access token. The refresh token is not rotated, and
 * nothing is written except the throttled last-use time of the grant.
 */
@Injectable()
export class RefreshTokenGrant {
  private readonly logger = new Logger(RefreshTokenGrant.name);

  constructor(
    @Inject(OfflineTokenPolicy) private readonly policy: OfflineTokenPolicy,
    @Inject(ProjectionFreshness) private readonly freshness: ProjectionFreshness,
    @Inject(GrantLastUsed) private readonly lastUsed: GrantLastUsed,
    @Inject(GRANT_REVOKER) private readonly revoker: GrantRevoker,
    @Inject(TokenSigner) private readonly signer: TokenSigner,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async exchange(client: OAuthClient, form: OAuthForm): Promise<TokenResponse> {
    if (client.type !== 'confidential') {
      // RFC 9700 §4.14.2 requires sender-constrained or rotated refresh tokens for public
      // clients; offline refresh tokens are neither, so public clients cannot refresh.
      throw new OAuthError('unauthorized_client', 'public clients cannot use the refresh_token grant; register a confidential client');
    }
    const refreshToken = form.require('refresh_token');
    const requested = parseScopeParameter(form.get('scope'));

    const freshness = this.freshness.report();
    if (freshness.stale) {
      throw new TokenServiceError(
        'token.projection_stale',
        `the grants projection may be ${freshness.stalenessSeconds.toFixed(1)} s behind, so the grant cannot be checked; retry shortly`,
      );
    }

    const now = this.clock.now();
    const valid = await this.validateOrRevokeExpired(refreshToken, client, now);

    let scopes = valid.usableScopes;
    if (requested) {
      const usable = new Set(valid.usableScopes);
      const missing = [...requested].filter((scope) => !usable.has(scope));
      if (missing.length > 0) {
        throw new TokenServiceError('token.scope_not_granted', `the scope ${missing.join(' ')} is not granted to this refresh token`, 'scope');
      }
      scopes = [...requested];
    }

    await this.lastUsed.touch(valid.grant.grantId, valid.grant.lastUsedAt, now);
    const access = await this.signer.signAccessToken({
      subject: valid.claims.sub,
      clientId: client.clientId,
      scopes,
      grantId: valid.grant.grantId,
      lifetimeSeconds: client.accessTokenLifetimeSeconds,
      notAfter: valid.grantEndsAt,
    });
    return { access_token: access.token, token_type: 'Bearer', expires_in: access.expiresInSeconds, scope: access.claims.scope };
  }

  /** Validates the token, and revokes a grant found past its lifetime through the grant service, reason `expired`. */
  private async validateOrRevokeExpired(refreshToken: string, client: OAuthClient, now: Date) {
    try {
      return await this.policy.validate(refreshToken, client, now);
    } catch (error) {
      if (error instanceof GrantExpiredError) {
        try {
          await this.revoker.revoke(error.grantId, 'expired', { type: 'system', id: 'token-service' });
        } catch {
          // The revoker has logged the failure. The rejection remains, and the next attempt retries the revocation.
        }
      }
      throw error;
    }
  }
}
