import { Module } from '@nestjs/common';

import { GrantsModule } from '../grants/grants.module.js';
import { GrantGrpcServer } from './grant-grpc.server.js';
import { GrantGrpcService } from './grant-grpc.service.js';
import { GrpcIdempotency } from './grpc-idempotency.js';

/** The gRPC grant API (proto/grants/v1/grants.proto) over the grant commands and queries. */
@Module({
  imports: [GrantsModule],
  providers: [GrantGrpcService, GrpcIdempotency, GrantGrpcServer],
})
export class GrantGrpcModule {}
