import { Inject, Injectable, Logger } from '@nestjs/common';

import type { Actor } from '#grant-domain/actor.js';
import type { RevokeReason } from '#grant-domain/revoke-reason.js';

import { CLOCK, type Clock } from '../common/clock.js';
import { TokenServiceError } from '../common/token-service-error.js';
import { TOKEN_SERVICE_CONFIG, type TokenServiceConfig } from '../config/token-service.config.js';
import { TokenSigner } from '../tokens/token-signer.js';
import { ActiveGrants } from './active-grants.js';
import type { GrantRevoker } from './grant-revoker.js';

/** A self-issued token is replaced this long before it expires. */
const renewBeforeExpiryMs = 30_000;
const selfTokenLifetimeSeconds = 300;

/**
 * Revokes grants with `DELETE {GRANT_SERVICE_URL}/v1/grants/{grant_id}`, authenticated by an
 * access token that this service issues to its bootstrap client with scope grants:admin
 * (the client_credentials grant, done in-process). A revocation the grant service accepted is
 * final, so this instance refuses the grant's tokens at once, before the event arrives.
 */
@Injectable()
export class HttpGrantRevoker implements GrantRevoker {
  private readonly logger = new Logger(HttpGrantRevoker.name);
  private selfToken: { token: string; expiresAtMs: number } | undefined;

  constructor(
    @Inject(TokenSigner) private readonly signer: TokenSigner,
    @Inject(TOKEN_SERVICE_CONFIG) private readonly config: TokenServiceConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ActiveGrants) private readonly activeGrants: ActiveGrants,
  ) {}

  async revoke(grantId: string, reason: RevokeReason, actor: Actor): Promise<void> {
    const url = `${this.config.GRANT_SERVICE_URL}/v1/grants/${encodeURIComponent(grantId)}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${await this.accessToken()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason, actor }),
        signal: AbortSignal.timeout(this.config.GRANT_SERVICE_TIMEOUT_MS),
      });
    } catch (error) {
      this.logger.warn({ grantId, reason, err: error }, 'Grant revocation request failed');
      throw revocationFailed(grantId);
    }
    // Drain the body so that the connection can be reused.
    await response.arrayBuffer().catch(() => undefined);

    if (response.ok) {
      this.activeGrants.markRevoked(grantId);
      this.logger.log({ grantId, reason, actorType: actor.type, actorId: actor.id }, 'Grant revoked through the grant service');
      return;
    }
    if (response.status === 404) {
      this.logger.log({ grantId, reason }, 'Grant to revoke is unknown to the grant service');
      return;
    }
    this.logger.warn({ grantId, reason, status: response.status }, 'Grant service rejected the grant revocation');
    throw revocationFailed(grantId);
  }

  /** Starts a bulk revocation job at `POST /v1/admin/revocations`; the grant service runs it in batches. */
  async revokeClientGrants(clientId: string): Promise<void> {
    let response: Response;
    try {
      response = await fetch(`${this.config.GRANT_SERVICE_URL}/v1/admin/revocations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await this.accessToken()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: clientId, reason: 'client_removed' }),
        signal: AbortSignal.timeout(this.config.GRANT_SERVICE_TIMEOUT_MS),
      });
    } catch (error) {
      this.logger.warn({ clientId, err: error }, 'Revocation of a deleted client\'s grants failed');
      throw clientRevocationFailed(clientId);
    }
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) {
      this.logger.warn({ clientId, status: response.status }, 'Grant service rejected the revocation of a deleted client\'s grants');
      throw clientRevocationFailed(clientId);
    }
    this.logger.log({ clientId }, 'Revocation of a deleted client\'s grants started');
  }

  private async accessToken(): Promise<string> {
    const nowMs = this.clock.now().getTime();
    if (this.selfToken && this.selfToken.expiresAtMs - renewBeforeExpiryMs > nowMs) return this.selfToken.token;

    const signed = await this.signer.signAccessToken({
      subject: this.config.BOOTSTRAP_CLIENT_ID,
      clientId: this.config.BOOTSTRAP_CLIENT_ID,
      scopes: ['grants:admin'],
      lifetimeSeconds: selfTokenLifetimeSeconds,
    });
    this.selfToken = { token: signed.token, expiresAtMs: signed.claims.exp * 1000 };
    return signed.token;
  }
}

function clientRevocationFailed(clientId: string): TokenServiceError {
  return new TokenServiceError(
    'token.grant_revocation_failed',
    `client ${clientId} was deleted, so its tokens no longer work, but the grant service did not start revoking its grants; start it with POST /v1/admin/revocations and reason client_removed`,
    'client_id',
  );
}

function revocationFailed(grantId: string): TokenServiceError {
  return new TokenServiceError(
    'token.grant_revocation_failed',
    `the grant service did not revoke grant ${grantId}; the token stays valid, retry later`,
    'token',
  );
}
