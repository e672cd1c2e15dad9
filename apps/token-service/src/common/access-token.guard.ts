import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';

import type { AccessTokenClaims } from '../tokens/token-formats.js';
import { scopeSet } from '../tokens/token-formats.js';
import { RevokedAccessTokens } from '../tokens/revoked-access-tokens.js';
import { TokenVerifier } from '../tokens/token-verifier.js';
import { TokenServiceError } from './token-service-error.js';

/** The route accepts a caller whose access token has at least one of these scopes. */
export const AnyScope = Reflector.createDecorator<string[]>();

export type AuthenticatedRequest = FastifyRequest & { accessToken: AccessTokenClaims };

/**
 * Authenticates REST callers with an access token this service issued (RFC 6750 bearer, RFC 9068
 * format) and checks the scopes the route names with @AnyScope.
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
    @Inject(RevokedAccessTokens) private readonly revoked: RevokedAccessTokens,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const match = /^bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) {
      throw new TokenServiceError('auth.invalid_token', 'the Authorization header must be "Bearer <access token>"', 'Authorization');
    }

    let claims: AccessTokenClaims;
    try {
      ({ claims } = await this.verifier.verifyAccessToken(match[1]));
    } catch (error) {
      if (error instanceof TokenServiceError) {
        throw new TokenServiceError('auth.invalid_token', `the access token is not valid: ${error.message}`, 'Authorization');
      }
      throw error;
    }
    // A token derived from a user's grant carries scopes that the user's client chose; they must
    // never act as service scopes, whatever they are named.
    if (claims.grant_id !== undefined) {
      throw new TokenServiceError(
        'auth.invalid_token',
        'the access token was issued for a user grant; this API accepts only client_credentials tokens of service clients',
        'Authorization',
      );
    }
    if (await this.revoked.isRevoked(claims.jti)) {
      throw new TokenServiceError('auth.invalid_token', 'the access token has been revoked', 'Authorization');
    }

    const required = this.reflector.getAllAndOverride(AnyScope, [context.getHandler(), context.getClass()]) ?? [];
    const granted = scopeSet(claims.scope);
    if (required.length > 0 && !required.some((scope) => granted.has(scope))) {
      throw new TokenServiceError('auth.insufficient_scope', `this operation needs one of the scopes ${required.join(', ')}`, 'Authorization');
    }
    request.accessToken = claims;
    return true;
  }
}
