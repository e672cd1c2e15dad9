import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger, PinoLogger } from 'nestjs-pino';
import type { AddressInfo } from 'node:net';

import { appVersion } from './app-version.js';

export interface HttpAppOptions {
  appName: string;
  host: string;
  /** 0 picks a free port, which tests use. */
  port: number;
  /** Largest accepted request body; larger ones get 413. */
  bodyLimitBytes?: number;
  /** Ports of other listeners, logged in the start line. */
  otherPorts?: Record<string, number>;
}

export interface StartedHttpApp {
  app: NestFastifyApplication;
  /** The port actually bound, which differs from the option when that was 0. */
  port: number;
  url: string;
}

/**
 * Boots a Nest app on Fastify, routes Nest's logs to pino, closes it on SIGTERM and SIGINT, and
 * logs one start line with the version and ports.
 */
export async function startHttpApp(module: DynamicModule, options: HttpAppOptions): Promise<StartedHttpApp> {
  const adapter = new FastifyAdapter({ bodyLimit: options.bodyLimitBytes ?? 64 * 1024 });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);

  await app.listen(options.port, options.host);
  const port = (app.getHttpServer().address() as AddressInfo).port;

  const logger = await app.resolve(PinoLogger);
  logger.setContext('Bootstrap');
  logger.info(
    { app: options.appName, version: appVersion(), host: options.host, port, ...options.otherPorts },
    'Application started',
  );

  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return { app, port, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` };
}
