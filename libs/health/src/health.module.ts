import { DynamicModule, Module, type Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';

import { HealthController } from './health.controller.js';
import { KafkaHealthIndicator } from './kafka.health.js';
import { READINESS_CHECKS, type ReadinessCheck } from './readiness-check.js';

/** `GET /health/live` and `GET /health/ready` for an app with PostgreSQL and Kafka. */
@Module({})
export class HealthModule {
  static forApp(extraChecks: Type<ReadinessCheck>[] = []): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ errorLogStyle: 'json' })],
      controllers: [HealthController],
      providers: [
        KafkaHealthIndicator,
        ...extraChecks,
        {
          provide: READINESS_CHECKS,
          useFactory: (...checks: ReadinessCheck[]) => checks,
          inject: extraChecks,
        },
      ],
    };
  }
}
