import 'reflect-metadata';

import { runMain } from '#platform/run-main.js';
import { startHttpApp } from '#platform/start-http-app.js';

import { loadGrantProjectorConfig } from './config/grant-projector.config.js';
import { GrantProjectorModule } from './grant-projector.module.js';

runMain(async () => {
  const config = loadGrantProjectorConfig();
  await startHttpApp(GrantProjectorModule.forRoot(config), {
    appName: 'grant-projector',
    host: config.HTTP_HOST,
    port: config.GRANT_PROJECTOR_PORT,
  });
});
