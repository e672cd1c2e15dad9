import { Module } from '@nestjs/common';

import { AccessTokenVerifier } from '../grants/auth/access-token.verifier.js';
import { GrantApiGuard } from '../grants/auth/grant-api.guard.js';
import { IdempotencyRecords } from '../grants/idempotency/idempotency-records.js';
import { IdempotencyInterceptor } from '../grants/idempotency/idempotency.interceptor.js';
import { RevocationCandidates } from './revocation-candidates.js';
import { RevocationJobLock } from './revocation-job-lock.js';
import { RevocationJobRunner } from './revocation-job.runner.js';
import { RevocationJobsRepository } from './revocation-jobs.repository.js';
import { RevocationsHttpController } from './revocations.http.controller.js';

/**
 * Administrative bulk revocation under /v1/admin/revocations. It authenticates with the grant
 * API's guard and revokes through the grants module's RevokeGrantCommand.
 */
@Module({
  controllers: [RevocationsHttpController],
  providers: [
    // The grant API's guard and idempotency support, provided here because GrantsModule keeps them private.
    AccessTokenVerifier,
    GrantApiGuard,
    IdempotencyRecords,
    IdempotencyInterceptor,
    RevocationCandidates,
    RevocationJobsRepository,
    RevocationJobLock,
    RevocationJobRunner,
  ],
})
export class AdminModule {}
