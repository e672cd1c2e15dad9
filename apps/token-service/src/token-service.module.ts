import { type DynamicModule, Module } from '@nestjs/common';

import { InfrastructureModule } from '#platform/infrastructure.module.js';

import { TOKEN_SERVICE_CONFIG, type TokenServiceConfig } from './config/token-service.config.js';

@Module({})
export class TokenServiceModule {
  static forRoot(config: TokenServiceConfig): DynamicModule {
    return {
      module: TokenServiceModule,
      global: true,
      imports: [
        InfrastructureModule.forApp({
          appName: 'token-service',
          logLevel: config.LOG_LEVEL,
          databaseUrl: config.DATABASE_URL,
          kafkaBrokers: config.KAFKA_BROKERS,
        }),
      ],
      providers: [{ provide: TOKEN_SERVICE_CONFIG, useValue: config }],
      exports: [TOKEN_SERVICE_CONFIG],
    };
  }
}
