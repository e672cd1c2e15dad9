import { type DynamicModule, Module } from '@nestjs/common';

import { InfrastructureModule } from '#platform/infrastructure.module.js';
import { OpenApiModule } from '#platform/openapi/openapi.module.js';

import { ProjectionReadinessCheck } from './projection/projection-readiness.check.js';
import { ProjectionModule } from './projection/projection.module.js';
import { GRANT_PROJECTOR_CONFIG, type GrantProjectorConfig } from './config/grant-projector.config.js';

@Module({})
export class GrantProjectorModule {
  static forRoot(config: GrantProjectorConfig): DynamicModule {
    return {
      module: GrantProjectorModule,
      global: true,
      imports: [
        InfrastructureModule.forApp({
          appName: 'grant-projector',
          logLevel: config.LOG_LEVEL,
          databaseUrl: config.DATABASE_URL,
          kafkaBrokers: config.KAFKA_BROKERS,
          readinessChecks: [ProjectionReadinessCheck],
        }),
        ProjectionModule,
        OpenApiModule.forApp('apps/grant-projector/openapi/openapi.yaml'),
      ],
      providers: [{ provide: GRANT_PROJECTOR_CONFIG, useValue: config }],
      exports: [GRANT_PROJECTOR_CONFIG],
    };
  }
}
