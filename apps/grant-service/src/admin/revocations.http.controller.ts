import { Controller, Get, Param, Post, Req, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';

import { ProblemError } from '#platform/problem-details/problem.js';

import { callerOf, RequiredScope } from '../grants/auth/grant-api-caller.js';
import { GrantApiGuard } from '../grants/auth/grant-api.guard.js';
import { parseGrantIdParameter, readJsonObjectBody } from '../grants/http/request-input.js';
import { IdempotencyInterceptor } from '../grants/idempotency/idempotency.interceptor.js';
import { RevocationCandidates } from './revocation-candidates.js';
import { RevocationJobRunner } from './revocation-job.runner.js';
import { type RevocationJobJson, toRevocationJobJson } from './revocation-job.json.js';
import { RevocationJobsRepository } from './revocation-jobs.repository.js';
import { parseRevocationRequest, revocationRequestFields } from './revocation-request.js';

/** Grant ids a dry run lists as a sample of what a real run would revoke. */
const dryRunSampleSize = 20;

interface DryRunJson {
  dry_run: true;
  count: number;
  sample: string[];
}

function jobNotFound(jobId: string): ProblemError {
  return new ProblemError({
    status: 404,
    code: 'revocation_job.not_found',
    title: 'Revocation job not found',
    detail: `Revocation job ${jobId} was not found, so check the job_id that POST /v1/admin/revocations returned.`,
    field: 'job_id',
  });
}

/**
 * Administrative bulk revocation: end every active grant of one user or one client, optionally
 * only those with a scope or created before an instant. Needs the `grants:admin` scope.
 */
@Controller('v1/admin/revocations')
@UseGuards(GrantApiGuard)
export class RevocationsHttpController {
  constructor(
    private readonly candidates: RevocationCandidates,
    private readonly jobs: RevocationJobsRepository,
    private readonly runner: RevocationJobRunner,
  ) {}

  /**
   * `POST /v1/admin/revocations`. With `dry_run: true` it returns how many grants match and a
   * sample of their ids, and changes nothing. Otherwise it creates a job, responds 202 with it
   * and revokes in the background, and `GET /v1/admin/revocations/{job_id}` reports progress.
   */
  @Post()
  @RequiredScope('grants:admin')
  @UseInterceptors(IdempotencyInterceptor)
  async createRevocation(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<DryRunJson | RevocationJobJson> {
    const body = readJsonObjectBody(request, { allowedFields: revocationRequestFields });
    const { filter, reason, dryRun } = parseRevocationRequest(body);

    if (dryRun) {
      const [count, sample] = await Promise.all([this.candidates.count(filter), this.candidates.nextBatch(filter, null, dryRunSampleSize)]);
      void reply.status(200);
      return { dry_run: true, count, sample };
    }

    const total = await this.candidates.count(filter);
    const job = await this.jobs.create({ jobId: randomUUID(), filter, reason, actor: { type: 'admin', id: callerOf(request).id }, total });
    this.runner.schedule(job.jobId);

    void reply.status(202).header('location', `/v1/admin/revocations/${job.jobId}`);
    return toRevocationJobJson(job);
  }

  /** `GET /v1/admin/revocations/{job_id}`: the job's status and counters. */
  @Get(':job_id')
  @RequiredScope('grants:admin')
  async getRevocation(@Param('job_id') jobIdParameter: string): Promise<RevocationJobJson> {
    const jobId = parseGrantIdParameter(jobIdParameter, 'job_id');
    const job = await this.jobs.find(jobId);
    if (job === undefined) throw jobNotFound(jobId);
    return toRevocationJobJson(job);
  }

  /**
   * `POST /v1/admin/revocations/{job_id}/resume` continues an interrupted or failed job from its
   * cursor. A job that is running already stays as it is, and a completed one gets 409.
   */
  @Post(':job_id/resume')
  @RequiredScope('grants:admin')
  async resumeRevocation(@Param('job_id') jobIdParameter: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<RevocationJobJson> {
    const jobId = parseGrantIdParameter(jobIdParameter, 'job_id');
    const job = await this.jobs.reopen(jobId);
    if (job === undefined) {
      const existing = await this.jobs.find(jobId);
      if (existing === undefined) throw jobNotFound(jobId);
      throw new ProblemError({
        status: 409,
        code: 'revocation_job.completed',
        title: 'Revocation job completed',
        detail: `Revocation job ${jobId} has completed, so there is nothing to resume; start a new job to revoke grants created since.`,
        field: 'job_id',
      });
    }
    this.runner.schedule(job.jobId);

    void reply.status(202);
    return toRevocationJobJson(job);
  }
}
