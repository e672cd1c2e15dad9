import { Inject, Injectable, Logger } from '@nestjs/common';

import { ClientRegistry } from '../clients/client-registry.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { TokenServiceError } from '../common/token-service-error.js';
import { TOKEN_SERVICE_CONFIG, type TokenServiceConfig } from '../config/token-service.config.js';
import { ProjectionFreshness } from '../freshness/projection-freshness.js';
import { GrantLastUsed } from '../grants/grant-last-used.js';
import { GrantProjection } from '../grants/grant-projection.js';
import { GRANT_REVOKER, type GrantRevoker } from '../grants/grant-revoker.js';
import { TokenSigner } from '../tokens/token-signer.js';
import { grantEndsAt, offlineAccessScope } from './offline-token-policy.js';

export interface IssuedOfflineToken {
  refresh_token: string;
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  grant_id: string;
}

/**
 * Issues an offline refresh token, with a first access token, for an active grant that includes
 * offline_access. Trusted callers such as an authorization server request it after consent.
 * Issuing counts as a use of the grant for its idle timeout.
 */
@Injectable()
export class OfflineTokenIssuer {
  private readonly logger = new Logger(OfflineTokenIssuer.name);

  constructor(
    @Inject(GrantProjection) private readonly projection: GrantProjection,
    @Inject(ClientRegistry) private readonly registry: ClientRegistry,
    @Inject(ProjectionFreshness) private readonly freshness: ProjectionFreshness,
    @Inject(GrantLastUsed) private readonly lastUsed: GrantLastUsed,
    @Inject(GRANT_REVOKER) private readonly revoker: GrantRevoker,
    @Inject(TokenSigner) private readonly signer: TokenSigner,
    @Inject(TOKEN_SERVICE_CONFIG) private readonly config: TokenServiceConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async issue(grantId: string, minPosition: bigint | undefined): Promise<IssuedOfflineToken> {
    const freshness = this.freshness.report();
    if (freshness.stale) {
      throw new TokenServiceError(
        'token.projection_stale',
        `the grants projection may be ${freshness.stalenessSeconds.toFixed(1)} s behind, so the grant cannot be checked; retry shortly`,
      );
    }
    if (minPosition !== undefined && !(await this.projection.waitForPosition(grantId, minPosition, this.config.TOKEN_MIN_POSITION_WAIT_MS))) {
      throw new TokenServiceError(
        'token.projection_behind',
        `the grants projection has not reached position ${minPosition} for grant ${grantId} yet; retry shortly`,
        'min_position',
      );
    }

    const grant = await this.projection.find(grantId);
    if (!grant) throw new TokenServiceError('token.grant_not_found', `grant ${grantId} was not found`, 'grant_id');
    if (grant.status !== 'active') throw new TokenServiceError('token.grant_revoked', `grant ${grantId} is revoked`, 'grant_id');
    if (!grant.scopes.includes(offlineAccessScope)) {
      throw new TokenServiceError('token.offline_access_missing', `grant ${grantId} does not include the scope offline_access`, 'grant_id');
    }

    const client = await this.registry.find(grant.clientId);
    if (!client) {
      throw new TokenServiceError('token.client_not_registered', `client ${grant.clientId} of grant ${grantId} is not registered here`, 'grant_id');
    }
    if (client.type !== 'confidential') {
      throw new TokenServiceError(
        'client.not_confidential',
        `client ${client.clientId} is public and could not refresh an offline token; register it as confidential`,
        'grant_id',
      );
    }

    const now = this.clock.now();
    const endsAt = grantEndsAt(client, grant);
    if (endsAt && now.getTime() >= endsAt.getTime()) {
      await this.revoker.revoke(grantId, 'expired', { type: 'system', id: 'token-service' }).catch(() => undefined);
      throw new TokenServiceError('token.max_lifetime_exceeded', `grant ${grantId} has passed its maximum lifetime; a new consent creates a new grant`, 'grant_id');
    }

    const refreshToken = await this.signer.signRefreshToken({
      userId: grant.userId,
      clientId: grant.clientId,
      grantId,
      scopes: grant.scopes,
      expiresAt: endsAt,
    });
    const access = await this.signer.signAccessToken({
      subject: grant.userId,
      clientId: grant.clientId,
      scopes: grant.scopes,
      grantId,
      lifetimeSeconds: client.accessTokenLifetimeSeconds,
      notAfter: endsAt,
    });
    await this.lastUsed.touch(grantId, grant.lastUsedAt, now);
    this.logger.log({ grantId, clientId: grant.clientId }, 'Offline token issued');

    return {
      refresh_token: refreshToken,
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresInSeconds,
      scope: access.claims.scope,
      grant_id: grantId,
    };
  }
}
