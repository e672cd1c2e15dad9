import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';

import { loggerOptions } from './logger-options.js';

/** pino through nestjs-pino, with one request log line per HTTP call except health probes. */
@Module({})
export class LoggingModule {
  static forApp(appName: string, level: string): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            ...loggerOptions(appName, level),
            autoLogging: { ignore: (request) => request.url?.startsWith('/health') ?? false },
            quietReqLogger: true,
          },
        }),
      ],
      exports: [LoggerModule],
    };
  }
}
