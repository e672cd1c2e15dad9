import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { HealthModule } from '#health/health.module.js';
import type { ReadinessCheck } from '#health/readiness-check.js';
import { LoggingModule } from '#logging/logging.module.js';
import { KafkaModule } from '#messaging/kafka.module.js';
import { dataSourceOptions } from '#persistence/data-source-options.js';

import { MetricsModule } from './metrics.module.js';

export interface InfrastructureSettings {
  appName: string;
  logLevel: string;
  databaseUrl: string;
  databasePoolSize?: number;
  kafkaBrokers: string[];
  readinessChecks?: Type<ReadinessCheck>[];
}

/** Infrastructure every app shares: pino logs, the PostgreSQL pool, the Kafka client, health and metrics. */
@Module({})
export class InfrastructureModule {
  static forApp(settings: InfrastructureSettings): DynamicModule {
    return {
      module: InfrastructureModule,
      imports: [
        LoggingModule.forApp(settings.appName, settings.logLevel),
        TypeOrmModule.forRoot({
          ...dataSourceOptions({
            databaseUrl: settings.databaseUrl,
            applicationName: settings.appName,
            poolSize: settings.databasePoolSize,
          }),
          retryAttempts: 3,
          retryDelay: 1000,
        }),
        KafkaModule.forRoot({ clientId: settings.appName, brokers: settings.kafkaBrokers }),
        HealthModule.forApp(settings.readinessChecks),
        MetricsModule,
      ],
      exports: [LoggingModule, TypeOrmModule, KafkaModule],
    };
  }
}
