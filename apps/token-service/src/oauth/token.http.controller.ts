import { Controller, Header, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { counter } from '../common/metrics.js';
import { ClientAuthenticator } from './client-authenticator.js';
import { ClientCredentialsGrant } from './client-credentials-grant.js';
import { OAuthError } from './oauth-error.js';
import { oauthErrorFor } from './oauth-error-mapping.js';
import { OAuthForm } from './oauth-form.js';
import { RefreshTokenGrant } from './refresh-token-grant.js';
import type { TokenResponse } from './token-response.js';

const tokenRequests = () =>
  counter('token_service_token_requests_total', 'Token endpoint requests by grant type and outcome (issued or the OAuth error code)', [
    'grant_type',
    'outcome',
  ]);

/** The token endpoint (RFC 6749 §3.2) for the refresh_token and client_credentials grants. */
@Controller('oauth')
export class TokenHttpController {
  constructor(
    @Inject(ClientAuthenticator) private readonly authenticator: ClientAuthenticator,
    @Inject(RefreshTokenGrant) private readonly refreshTokenGrant: RefreshTokenGrant,
    @Inject(ClientCredentialsGrant) private readonly clientCredentialsGrant: ClientCredentialsGrant,
  ) {}

  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async token(@Req() request: FastifyRequest): Promise<TokenResponse> {
    const form = OAuthForm.parse(request.headers['content-type'], request.body);
    const grantType = form.get('grant_type');
    if (grantType === undefined) {
      throw new OAuthError('invalid_request', 'the parameter grant_type is missing; use refresh_token or client_credentials');
    }
    if (grantType !== 'refresh_token' && grantType !== 'client_credentials') {
      const shown = grantType.length <= 64 ? grantType : `${grantType.slice(0, 64)}…`;
      throw new OAuthError('unsupported_grant_type', `grant_type ${shown} is not supported; use refresh_token or client_credentials`);
    }

    try {
      const { client } = await this.authenticator.authenticate(request.headers.authorization, form);
      const response =
        grantType === 'refresh_token'
          ? await this.refreshTokenGrant.exchange(client, form)
          : await this.clientCredentialsGrant.exchange(client, form);
      tokenRequests().inc({ grant_type: grantType, outcome: 'issued' });
      return response;
    } catch (error) {
      tokenRequests().inc({ grant_type: grantType, outcome: oauthErrorFor(error)?.error ?? 'server_error' });
      throw error;
    }
  }
}
