import { Module } from '@nestjs/common';

import { ClientAuthenticator } from './client-authenticator.js';
import { ClientCredentialsGrant } from './client-credentials-grant.js';
import { IntrospectionHttpController } from './introspection.http.controller.js';
import { MetadataHttpController } from './metadata.http.controller.js';
import { RefreshTokenGrant } from './refresh-token-grant.js';
import { RevocationHttpController } from './revocation.http.controller.js';
import { TokenHttpController } from './token.http.controller.js';

/** The OAuth endpoints: token, introspection, revocation, metadata and JWKS. */
@Module({
  controllers: [TokenHttpController, IntrospectionHttpController, RevocationHttpController, MetadataHttpController],
  providers: [ClientAuthenticator, RefreshTokenGrant, ClientCredentialsGrant],
})
export class OAuthModule {}
