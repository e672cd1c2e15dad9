import 'reflect-metadata';

import { runMain } from '#platform/run-main.js';
import { startHttpApp } from '#platform/start-http-app.js';

import { loadTokenServiceConfig } from './config/token-service.config.js';
import { TokenServiceModule } from './token-service.module.js';

runMain(async () => {
  const config = loadTokenServiceConfig();
  await startHttpApp(TokenServiceModule.forRoot(config), {
    appName: 'token-service',
    host: config.HTTP_HOST,
    port: config.TOKEN_SERVICE_PORT,
  });
});
