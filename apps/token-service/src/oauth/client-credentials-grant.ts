import { Inject, Injectable } from '@nestjs/common';

import type { OAuthClient } from '../clients/oauth-client.js';
import { TokenServiceError } from '../common/token-service-error.js';
import { TokenSigner } from '../tokens/token-signer.js';
import { OAuthError } from './oauth-error.js';
import type { OAuthForm } from './oauth-form.js';
import { parseScopeParameter } from './scope-parameter.js';
import type { TokenResponse } from './token-response.js';

/**
 * `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client gets an access token for
 * itself, with the requested subset of its allowed scopes, or all of them when none is requested.
 */
@Injectable()
export class ClientCredentialsGrant {
  constructor(@Inject(TokenSigner) private readonly signer: TokenSigner) {}

  async exchange(client: OAuthClient, form: OAuthForm): Promise<TokenResponse> {
    if (client.type !== 'confidential') {
      throw new OAuthError('unauthorized_client', 'only confidential clients may use the client_credentials grant');
    }
    const requested = parseScopeParameter(form.get('scope'));
    const allowed = new Set(client.allowedScopes);
    let scopes = client.allowedScopes;
    if (requested) {
      const missing = [...requested].filter((scope) => !allowed.has(scope));
      if (missing.length > 0) {
        throw new TokenServiceError('client.scope_not_allowed', `the scope ${missing.join(' ')} is not allowed for client ${client.clientId}`, 'scope');
      }
      scopes = [...requested];
    }
    if (scopes.length === 0) {
      throw new TokenServiceError('client.scope_not_allowed', `client ${client.clientId} has no scopes to request with client_credentials`, 'scope');
    }

    // RFC 9068 §2.2: without a resource owner, the subject is the client itself.
    const access = await this.signer.signAccessToken({
      subject: client.clientId,
      clientId: client.clientId,
      scopes,
      lifetimeSeconds: client.accessTokenLifetimeSeconds,
    });
    return { access_token: access.token, token_type: 'Bearer', expires_in: access.expiresInSeconds, scope: access.claims.scope };
  }
}
