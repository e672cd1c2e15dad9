import { type DynamicModule, Module } from '@nestjs/common';

import { InfrastructureModule } from '#platform/infrastructure.module.js';
import { OpenApiModule } from '#platform/openapi/openapi.module.js';

import { AccountModule } from './account/account.module.js';
import { AdminModule } from './admin/admin.module.js';
import { GRANT_SERVICE_CONFIG, type GrantServiceConfig } from './config/grant-service.config.js';
import { GrantsModule } from './grants/grants.module.js';
import { GrantGrpcModule } from './grpc/grant-grpc.module.js';
import { RelayModule } from './relay/relay.module.js';

@Module({})
export class GrantServiceModule {
  static forRoot(config: GrantServiceConfig): DynamicModule {
    return {
      module: GrantServiceModule,
      global: true,
      imports: [
        InfrastructureModule.forApp({
          appName: 'grant-service',
          logLevel: config.LOG_LEVEL,
          databaseUrl: config.DATABASE_URL,
          kafkaBrokers: config.KAFKA_BROKERS,
        }),
        GrantsModule,
        AccountModule,
        AdminModule,
        RelayModule,
        GrantGrpcModule,
        OpenApiModule.forApp('apps/grant-service/openapi/openapi.yaml'),
      ],
      providers: [{ provide: GRANT_SERVICE_CONFIG, useValue: config }],
      exports: [GRANT_SERVICE_CONFIG],
    };
  }
}
