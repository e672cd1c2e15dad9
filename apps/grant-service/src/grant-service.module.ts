import { type DynamicModule, Module } from '@nestjs/common';

import { InfrastructureModule } from '#platform/infrastructure.module.js';

import { GRANT_SERVICE_CONFIG, type GrantServiceConfig } from './config/grant-service.config.js';

@Module({})
export class GrantServiceModule {
  static forRoot(config: GrantServiceConfig): DynamicModule {
    return {
      module: GrantServiceModule,
      imports: [
        InfrastructureModule.forApp({
          appName: 'grant-service',
          logLevel: config.LOG_LEVEL,
          databaseUrl: config.DATABASE_URL,
          kafkaBrokers: config.KAFKA_BROKERS,
        }),
      ],
      providers: [{ provide: GRANT_SERVICE_CONFIG, useValue: config }],
    };
  }
}
