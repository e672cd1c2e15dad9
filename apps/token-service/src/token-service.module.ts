import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { InfrastructureModule } from '#platform/infrastructure.module.js';
import { OpenApiModule } from '#platform/openapi/openapi.module.js';
import { PROBLEM_MAPPERS, ProblemDetailsFilter } from '#platform/problem-details/problem-details.filter.js';

import { ClientRegistry } from './clients/client-registry.js';
import { ClientsModule } from './clients/clients.module.js';
import { AccessTokenGuard } from './common/access-token.guard.js';
import { CLOCK, type Clock, systemClock } from './common/clock.js';
import { TokenServiceExceptionFilter } from './common/token-service-exception.filter.js';
import { tokenServiceProblemMapper } from './common/token-service-problems.js';
import { TOKEN_SERVICE_CONFIG, type TokenServiceConfig } from './config/token-service.config.js';
import { ProjectionFreshness } from './freshness/projection-freshness.js';
import { ProjectionFreshnessCheck } from './freshness/projection-freshness.check.js';
import { ActiveGrants } from './grants/active-grants.js';
import { GrantLastUsed } from './grants/grant-last-used.js';
import { GrantProjection } from './grants/grant-projection.js';
import { GRANT_REVOKER } from './grants/grant-revoker.js';
import { HttpGrantRevoker } from './grants/http-grant-revoker.js';
import { TokenGrpcModule } from './grpc/token-grpc.module.js';
import { KeyRing } from './keys/key-ring.js';
import { KeysModule } from './keys/keys.module.js';
import { SigningKeyStore } from './keys/signing-key-store.js';
import { OAuthModule } from './oauth/oauth.module.js';
import { OfflineTokenPolicy } from './offline-tokens/offline-token-policy.js';
import { OfflineTokensModule } from './offline-tokens/offline-tokens.module.js';
import { RevokedAccessTokens } from './tokens/revoked-access-tokens.js';
import { TokenSigner } from './tokens/token-signer.js';
import { TokenVerifier } from './tokens/token-verifier.js';

export interface TokenServiceOptions {
  /** Replaces the system clock; tests move time with it instead of sleeping. */
  clock?: Clock;
}

/** Providers every feature module of the token service shares; the module is global. */
const sharedProviders: Provider[] = [
  {
    provide: ClientRegistry,
    useFactory: (dataSource: DataSource, clock: Clock, config: TokenServiceConfig) =>
      new ClientRegistry(dataSource, clock, config.TOKEN_CLIENT_CACHE_TTL_SECONDS * 1000),
    inject: [getDataSourceToken(), CLOCK, TOKEN_SERVICE_CONFIG],
  },
  {
    provide: SigningKeyStore,
    useFactory: (dataSource: DataSource, config: TokenServiceConfig) => new SigningKeyStore(dataSource, config.TOKEN_KEY_ENCRYPTION_KEY),
    inject: [getDataSourceToken(), TOKEN_SERVICE_CONFIG],
  },
  KeyRing,
  TokenSigner,
  TokenVerifier,
  RevokedAccessTokens,
  GrantProjection,
  ActiveGrants,
  GrantLastUsed,
  { provide: GRANT_REVOKER, useClass: HttpGrantRevoker },
  ProjectionFreshness,
  OfflineTokenPolicy,
  AccessTokenGuard,
];

@Module({})
export class TokenServiceModule {
  static forRoot(config: TokenServiceConfig, options: TokenServiceOptions = {}): DynamicModule {
    return {
      module: TokenServiceModule,
      global: true,
      imports: [
        InfrastructureModule.forApp({
          appName: 'token-service',
          logLevel: config.LOG_LEVEL,
          databaseUrl: config.DATABASE_URL,
          kafkaBrokers: config.KAFKA_BROKERS,
          readinessChecks: [ProjectionFreshnessCheck],
        }),
        ClientsModule,
        KeysModule,
        OAuthModule,
        OfflineTokensModule,
        TokenGrpcModule,
        OpenApiModule.forApp('apps/token-service/openapi/openapi.yaml'),
      ],
      providers: [
        { provide: TOKEN_SERVICE_CONFIG, useValue: config },
        { provide: CLOCK, useValue: options.clock ?? systemClock },
        ...sharedProviders,
        // /oauth/* returns OAuth errors, every other path problem details through the shared filter.
        { provide: PROBLEM_MAPPERS, useValue: [tokenServiceProblemMapper] },
        ProblemDetailsFilter,
        { provide: APP_FILTER, useClass: TokenServiceExceptionFilter },
      ],
      exports: [TOKEN_SERVICE_CONFIG, CLOCK, ...sharedProviders],
    };
  }
}
