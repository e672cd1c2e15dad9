import { Controller, Get, Header, Inject } from '@nestjs/common';

import { bootstrapClientScopes } from '../clients/client-registry.js';
import { TOKEN_SERVICE_CONFIG, type TokenServiceConfig } from '../config/token-service.config.js';
import { KeyRing } from '../keys/key-ring.js';
import { signingAlgorithms } from '../keys/signing-key.js';
import { offlineAccessScope } from '../offline-tokens/offline-token-policy.js';

const clientAuthenticationMethods = ['client_secret_basic', 'client_secret_post'];

/** Authorization server metadata (RFC 8414) and the JWKS it names. */
@Controller('.well-known')
export class MetadataHttpController {
  constructor(
    @Inject(TOKEN_SERVICE_CONFIG) private readonly config: TokenServiceConfig,
    @Inject(KeyRing) private readonly keyRing: KeyRing,
  ) {}

  @Get('oauth-authorization-server')
  @Header('Cache-Control', 'public, max-age=300')
  metadata() {
    const issuer = this.config.TOKEN_ISSUER;
    return {
      issuer,
      token_endpoint: `${issuer}/oauth/token`,
      introspection_endpoint: `${issuer}/oauth/introspect`,
      revocation_endpoint: `${issuer}/oauth/revoke`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      // This service has no authorization endpoint, so no response type applies.
      response_types_supported: [],
      grant_types_supported: ['refresh_token', 'client_credentials'],
      token_endpoint_auth_methods_supported: clientAuthenticationMethods,
      introspection_endpoint_auth_methods_supported: clientAuthenticationMethods,
      // Public clients may revoke their tokens with client_id alone (RFC 7009 §2.1).
      revocation_endpoint_auth_methods_supported: [...clientAuthenticationMethods, 'none'],
      scopes_supported: [offlineAccessScope, ...bootstrapClientScopes],
      access_token_signing_alg_values_supported: [...signingAlgorithms],
    };
  }

  /** Returns every published key: the next one before it signs, and retired ones while their tokens may be presented. */
  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=60')
  jwks() {
    return { keys: this.keyRing.publicJwks() };
  }
}
