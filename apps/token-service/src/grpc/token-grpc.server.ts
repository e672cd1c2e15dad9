import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';

import { appReadiness } from '#grpc/app-readiness.js';
import { GrpcServer } from '#grpc/grpc-server.js';
import { tokenServiceName, tokensProtoFile } from '#grpc/proto-files.js';

import { TOKEN_SERVICE_CONFIG, type TokenServiceConfig } from '../config/token-service.config.js';
import { TokenGrpcService } from './token-grpc.service.js';

/**
 * Runs the gRPC token API on HTTP_HOST:TOKEN_SERVICE_GRPC_PORT from application bootstrap until
 * shutdown, with health checking and reflection beside it.
 */
@Injectable()
export class TokenGrpcServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private server: GrpcServer | undefined;

  constructor(
    @Inject(TOKEN_SERVICE_CONFIG) private readonly config: TokenServiceConfig,
    private readonly service: TokenGrpcService,
    private readonly moduleRef: ModuleRef,
    @InjectPinoLogger(TokenGrpcServer.name) private readonly logger: PinoLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.server = await GrpcServer.start({
      host: this.config.HTTP_HOST,
      port: this.config.TOKEN_SERVICE_GRPC_PORT,
      protoFiles: [tokensProtoFile],
      services: [{ name: tokenServiceName, implementation: this.service.implementation() }],
      readiness: appReadiness(this.moduleRef),
      logger: this.logger,
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }

  /** The bound port, which differs from the configured one when that was 0. Raises TypeError before bootstrap. */
  get port(): number {
    if (this.server === undefined) throw new TypeError('the gRPC server is not running');
    return this.server.port;
  }
}
