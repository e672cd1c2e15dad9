import type { DynamicModule } from '@nestjs/common';

import { startHttpApp, type StartedHttpApp } from '#platform/start-http-app.js';

import { uniqueName } from './test-kafka.js';

/** Starts an app module on a free port of 127.0.0.1, logging only warnings and errors. */
export function startTestApp(appName: string, module: DynamicModule): Promise<StartedHttpApp> {
  return startHttpApp(module, { appName, host: '127.0.0.1', port: 0 });
}

/** Returns the variables an app needs to run against a test database and the test broker. */
export function testEnvironment(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    // Free ports, so that several apps of one test run side by side.
    GRANT_SERVICE_GRPC_PORT: '0',
    TOKEN_SERVICE_GRPC_PORT: '0',
    // A topic and groups of this test's own, so that no test reads another test's events. A test
    // that wires several apps together passes the same names to each of them.
    GRANT_EVENTS_TOPIC: uniqueName('test-grant-events'),
    GRANT_PROJECTOR_GROUP_ID: uniqueName('test-projector'),
    ...extra,
  };
}
