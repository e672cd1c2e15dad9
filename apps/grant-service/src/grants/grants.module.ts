import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';

import { ProblemDetailsModule } from '#platform/problem-details/problem-details.module.js';

import { GrantsActiveAtReader } from './active-at/grants-active-at.reader.js';
import { ListGrantsActiveAtHandler } from './active-at/list-grants-active-at.handler.js';
import { ListGrantsActiveAtHttpController } from './active-at/list-grants-active-at.http.controller.js';
import { AccessTokenVerifier } from './auth/access-token.verifier.js';
import { GrantApiGuard } from './auth/grant-api.guard.js';
import { ChangeGrantScopesHandler } from './change-grant-scopes/change-grant-scopes.handler.js';
import { ChangeGrantScopesHttpController } from './change-grant-scopes/change-grant-scopes.http.controller.js';
import { CLOCK, systemClock } from './clock.js';
import { CreateGrantHandler } from './create-grant/create-grant.handler.js';
import { CreateGrantHttpController } from './create-grant/create-grant.http.controller.js';
import { GetGrantHistoryHandler } from './get-grant-history/get-grant-history.handler.js';
import { GetGrantHistoryHttpController } from './get-grant-history/get-grant-history.http.controller.js';
import { GetGrantHandler } from './get-grant/get-grant.handler.js';
import { GetGrantHttpController } from './get-grant/get-grant.http.controller.js';
import { GrantCommandRunner } from './grant-command-runner.js';
import { GrantCommandMetrics } from './grant-command.metrics.js';
import { grantEventStoreProvider } from './grant-event-store.provider.js';
import { GRANT_ID_GENERATOR, randomGrantIdGenerator } from './grant-id-generator.js';
import { GrantProjectionReader } from './grant-projection.reader.js';
import { grantProblemMapper } from './grant.problems.js';
import { MethodNotAllowedHttpController } from './http/method-not-allowed.http.controller.js';
import { IdempotencyRecords } from './idempotency/idempotency-records.js';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor.js';
import { ListGrantsHandler } from './list-grants/list-grants.handler.js';
import { ListGrantsHttpController } from './list-grants/list-grants.http.controller.js';
import { RevokeGrantHandler } from './revoke-grant/revoke-grant.handler.js';
import { RevokeGrantHttpController } from './revoke-grant/revoke-grant.http.controller.js';

/**
 * Grant commands, queries and their REST API under /v1/grants, plus the app-wide problem-details
 * error filter.
 */
@Module({
  imports: [CqrsModule.forRoot(), ProblemDetailsModule.forRoot([grantProblemMapper])],
  controllers: [
    CreateGrantHttpController,
    ListGrantsHttpController,
    GetGrantHttpController,
    ChangeGrantScopesHttpController,
    RevokeGrantHttpController,
    GetGrantHistoryHttpController,
    ListGrantsActiveAtHttpController,
    MethodNotAllowedHttpController,
  ],
  providers: [
    grantEventStoreProvider,
    { provide: CLOCK, useValue: systemClock },
    { provide: GRANT_ID_GENERATOR, useValue: randomGrantIdGenerator },
    GrantCommandMetrics,
    GrantCommandRunner,
    CreateGrantHandler,
    ChangeGrantScopesHandler,
    RevokeGrantHandler,
    GrantProjectionReader,
    GetGrantHandler,
    ListGrantsHandler,
    GetGrantHistoryHandler,
    GrantsActiveAtReader,
    ListGrantsActiveAtHandler,
    AccessTokenVerifier,
    GrantApiGuard,
    IdempotencyRecords,
    IdempotencyInterceptor,
  ],
  // The gRPC edge authenticates and records idempotency keys with the same instances.
  exports: [AccessTokenVerifier, IdempotencyRecords],
})
export class GrantsModule {}
