import { Controller, Header, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { ClientRegistry } from '../clients/client-registry.js';
import type { OAuthClient } from '../clients/oauth-client.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { TokenServiceError } from '../common/token-service-error.js';
import { ActiveGrants } from '../grants/active-grants.js';
import { OfflineTokenPolicy } from '../offline-tokens/offline-token-policy.js';
import { RevokedAccessTokens } from '../tokens/revoked-access-tokens.js';
import { accessTokenType, refreshTokenType } from '../tokens/token-formats.js';
import { TokenVerifier } from '../tokens/token-verifier.js';
import { ClientAuthenticator } from './client-authenticator.js';
import { OAuthError } from './oauth-error.js';
import { OAuthForm } from './oauth-form.js';

/** The scope that lets a caller introspect the tokens of every client, not only its own. */
export const introspectAnyScope = 'tokens:introspect';

type IntrospectionResponse = { active: false } | ({ active: true } & Record<string, unknown>);

const inactive: IntrospectionResponse = { active: false };

/**
 * Token introspection (RFC 7662). A client can introspect its own tokens, and a client allowed the
 * scope tokens:introspect can introspect any. Every other token, and every token that fails the
 * rules, returns `{"active":false}`, so the response reveals nothing about tokens of other clients.
 * Introspection changes nothing: an expired grant is revoked only when its token is refreshed.
 */
@Controller('oauth')
export class IntrospectionHttpController {
  constructor(
    @Inject(ClientAuthenticator) private readonly authenticator: ClientAuthenticator,
    @Inject(ClientRegistry) private readonly registry: ClientRegistry,
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
    @Inject(OfflineTokenPolicy) private readonly policy: OfflineTokenPolicy,
    @Inject(ActiveGrants) private readonly grants: ActiveGrants,
    @Inject(RevokedAccessTokens) private readonly revoked: RevokedAccessTokens,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post('introspect')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async introspect(@Req() request: FastifyRequest): Promise<IntrospectionResponse> {
    const form = OAuthForm.parse(request.headers['content-type'], request.body);
    const { client: caller } = await this.authenticator.authenticate(request.headers.authorization, form);
    if (caller.type !== 'confidential') {
      throw new OAuthError('invalid_client', 'introspection needs an authenticated confidential client', 401);
    }
    const token = form.require('token');
    const seesAll = caller.allowedScopes.includes(introspectAnyScope);

    try {
      switch (this.verifier.peekType(token)) {
        case refreshTokenType:
          return await this.introspectRefreshToken(token, caller, seesAll);
        case accessTokenType:
          return await this.introspectAccessToken(token, caller, seesAll);
        default:
          return inactive;
      }
    } catch (error) {
      if (error instanceof TokenServiceError) return inactive;
      throw error;
    }
  }

  private async introspectRefreshToken(token: string, caller: OAuthClient, seesAll: boolean): Promise<IntrospectionResponse> {
    const { claims } = await this.verifier.verifyRefreshToken(token);
    if (claims.client_id !== caller.clientId && !seesAll) return inactive;

    const owner = claims.client_id === caller.clientId ? caller : await this.registry.find(claims.client_id);
    if (!owner) return inactive;
    const valid = await this.policy.check(claims, owner, this.clock.now());
    return {
      active: true,
      scope: valid.usableScopes.join(' '),
      client_id: claims.client_id,
      sub: claims.sub,
      iss: claims.iss,
      iat: claims.iat,
      ...(claims.exp === undefined ? {} : { exp: claims.exp }),
      jti: claims.jti,
      grant_id: claims.grant_id,
    };
  }

  private async introspectAccessToken(token: string, caller: OAuthClient, seesAll: boolean): Promise<IntrospectionResponse> {
    const { claims } = await this.verifier.verifyAccessToken(token);
    if (claims.client_id !== caller.clientId && !seesAll) return inactive;
    if (await this.revoked.isRevoked(claims.jti)) return inactive;
    if (claims.grant_id !== undefined) {
      // An access token derived from a grant dies with the grant.
      const grant = await this.grants.find(claims.grant_id);
      if (!grant || grant.status !== 'active') return inactive;
    }
    return {
      active: true,
      token_type: 'Bearer',
      scope: claims.scope,
      client_id: claims.client_id,
      sub: claims.sub,
      aud: claims.aud,
      iss: claims.iss,
      iat: claims.iat,
      exp: claims.exp,
      jti: claims.jti,
      ...(claims.grant_id === undefined ? {} : { grant_id: claims.grant_id }),
    };
  }
}
