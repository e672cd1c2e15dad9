import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';

import { appReadiness } from '#grpc/app-readiness.js';
import { GrpcServer } from '#grpc/grpc-server.js';
import { grantServiceName, grantsProtoFile } from '#grpc/proto-files.js';

import { GRANT_SERVICE_CONFIG, type GrantServiceConfig } from '../config/grant-service.config.js';
import { GrantGrpcService } from './grant-grpc.service.js';

/**
 * Runs the gRPC grant API on HTTP_HOST:GRANT_SERVICE_GRPC_PORT from application bootstrap until
 * shutdown, with health checking and reflection beside it.
 */
@Injectable()
export class GrantGrpcServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private server: GrpcServer | undefined;

  constructor(
    @Inject(GRANT_SERVICE_CONFIG) private readonly config: GrantServiceConfig,
    private readonly service: GrantGrpcService,
    private readonly moduleRef: ModuleRef,
    @InjectPinoLogger(GrantGrpcServer.name) private readonly logger: PinoLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.server = await GrpcServer.start({
      host: this.config.HTTP_HOST,
      port: this.config.GRANT_SERVICE_GRPC_PORT,
      protoFiles: [grantsProtoFile],
      services: [{ name: grantServiceName, implementation: this.service.implementation() }],
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
