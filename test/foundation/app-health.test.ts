import type { DynamicModule } from '@nestjs/common';

import { loadGrantProjectorConfig } from '../../apps/grant-projector/src/config/grant-projector.config.js';
import { GrantProjectorModule } from '../../apps/grant-projector/src/grant-projector.module.js';
import { loadGrantServiceConfig } from '../../apps/grant-service/src/config/grant-service.config.js';
import { GrantServiceModule } from '../../apps/grant-service/src/grant-service.module.js';
import { loadTokenServiceConfig } from '../../apps/token-service/src/config/token-service.config.js';
import { TokenServiceModule } from '../../apps/token-service/src/token-service.module.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';
import { startTestApp, testEnvironment } from '#testing/test-apps.js';

const apps: Array<[string, (environment: Record<string, string>) => DynamicModule]> = [
  ['grant-service', (environment) => GrantServiceModule.forRoot(loadGrantServiceConfig(environment))],
  ['token-service', (environment) => TokenServiceModule.forRoot(loadTokenServiceConfig(environment))],
  ['grant-projector', (environment) => GrantProjectorModule.forRoot(loadGrantProjectorConfig(environment))],
];

describe('when each app boots', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('app_health');
  });

  afterAll(async () => {
    await database.drop();
  });

  it.each(apps)('%s reports PostgreSQL and Kafka ready', async (appName, moduleFor) => {
    const { app, url } = await startTestApp(appName, moduleFor(testEnvironment(database.url)));
    try {
      const live = await fetch(`${url}/health/live`);
      expect(live.status).toBe(200);

      const ready = await fetch(`${url}/health/ready`);
      const body = (await ready.json()) as { status: string; details: Record<string, { status: string }> };
      expect(ready.status).toBe(200);
      expect(body.details.postgres.status).toBe('up');
      expect(body.details.kafka.status).toBe('up');

      const metrics = await fetch(`${url}/metrics`);
      expect(await metrics.text()).toContain('process_cpu_user_seconds_total');
    } finally {
      await app.close();
    }
  });
});
