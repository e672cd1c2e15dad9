import { Module } from '@nestjs/common';

import { TokenGrpcServer } from './token-grpc.server.js';
import { TokenGrpcService } from './token-grpc.service.js';

/** The gRPC token API (proto/tokens/v1/tokens.proto) over the offline-token and OAuth endpoints. */
@Module({ providers: [TokenGrpcService, TokenGrpcServer] })
export class TokenGrpcModule {}
