import { Controller, Header, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { TokenServiceError } from '../common/token-service-error.js';
import { GRANT_REVOKER, type GrantRevoker } from '../grants/grant-revoker.js';
import { RevokedAccessTokens } from '../tokens/revoked-access-tokens.js';
import { accessTokenType, refreshTokenType } from '../tokens/token-formats.js';
import { TokenVerifier } from '../tokens/token-verifier.js';
import { ClientAuthenticator } from './client-authenticator.js';
import { OAuthError } from './oauth-error.js';
import { OAuthForm } from './oauth-form.js';

/**
 * Token revocation (RFC 7009). Revoking an offline refresh token revokes its grant through the
 * grant service (reason token_revoked, actor the client), which ends every token of that grant.
 * Revoking an access token denies its jti until it expires. An invalid or unknown token is 200
 * (RFC 7009 §2.2); a token of another client is 400 unauthorized_client and stays valid.
 */
@Controller('oauth')
export class RevocationHttpController {
  constructor(
    @Inject(ClientAuthenticator) private readonly authenticator: ClientAuthenticator,
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
    @Inject(GRANT_REVOKER) private readonly revoker: GrantRevoker,
    @Inject(RevokedAccessTokens) private readonly revoked: RevokedAccessTokens,
  ) {}

  @Post('revoke')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async revoke(@Req() request: FastifyRequest): Promise<void> {
    const form = OAuthForm.parse(request.headers['content-type'], request.body);
    const { client } = await this.authenticator.authenticate(request.headers.authorization, form);
    const token = form.require('token');

    switch (this.verifier.peekType(token)) {
      case refreshTokenType: {
        const claims = await this.verifiedOrUndefined(() => this.verifier.verifyRefreshToken(token));
        if (!claims) return;
        this.assertOwnToken(claims.client_id, client.clientId);
        await this.revoker.revoke(claims.grant_id, 'token_revoked', { type: 'client', id: client.clientId });
        return;
      }
      case accessTokenType: {
        const claims = await this.verifiedOrUndefined(() => this.verifier.verifyAccessToken(token));
        if (!claims) return;
        this.assertOwnToken(claims.client_id, client.clientId);
        await this.revoked.add(claims.jti, claims.client_id, new Date(claims.exp * 1000));
        return;
      }
      default:
        return;
    }
  }

  private async verifiedOrUndefined<Claims>(verify: () => Promise<{ claims: Claims }>): Promise<Claims | undefined> {
    try {
      return (await verify()).claims;
    } catch (error) {
      if (error instanceof TokenServiceError) return undefined;
      throw error;
    }
  }

  private assertOwnToken(tokenClientId: string, callerClientId: string): void {
    if (tokenClientId !== callerClientId) {
      throw new OAuthError('unauthorized_client', 'the token was issued to another client; a client can revoke only its own tokens');
    }
  }
}
