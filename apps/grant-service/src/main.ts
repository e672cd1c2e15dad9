import 'reflect-metadata';

import { runMain } from '#platform/run-main.js';
import { startHttpApp } from '#platform/start-http-app.js';

import { loadGrantServiceConfig } from './config/grant-service.config.js';
import { GrantServiceModule } from './grant-service.module.js';

runMain(async () => {
  const config = loadGrantServiceConfig();
  await startHttpApp(GrantServiceModule.forRoot(config), {
    appName: 'grant-service',
    host: config.HTTP_HOST,
    port: config.GRANT_SERVICE_PORT,
  });
});
