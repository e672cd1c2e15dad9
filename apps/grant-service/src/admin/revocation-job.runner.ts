import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';

import { GrantError } from '#grant-domain/grant-error.js';

import { GRANT_SERVICE_CONFIG, type GrantServiceConfig } from '../config/grant-service.config.js';
import { RevokeGrantCommand } from '../grants/revoke-grant/revoke-grant.command.js';
import { RevocationCandidates } from './revocation-candidates.js';
import { RevocationJobLock } from './revocation-job-lock.js';
import { type BatchCounts, type RevocationJob, RevocationJobsRepository } from './revocation-jobs.repository.js';

/**
 * Runs revocation jobs, one at a time per instance, in batches of ADMIN_REVOCATION_BATCH_SIZE
 * grants. Each grant is revoked through RevokeGrantCommand, so every revocation is one
 * GrantRevoked event with the job's reason and actor, and an already revoked grant records
 * nothing. The job's cursor and counters are saved after each batch. A job that was stopped by
 * a shutdown or a crash resumes from its cursor when an instance starts, at the next sweep, or
 * on request.
 *
 * NOTE: a crash in the middle of a batch loses that batch's counts: its revocations are
 * recorded in the event store, but the resumed job no longer finds those grants and does not
 * count them in `revoked`.
 */
@Injectable()
export class RevocationJobRunner implements OnApplicationBootstrap, OnModuleDestroy {
  /** Job ids waiting to run on this instance, in the order they were scheduled. */
  private readonly queue = new Set<string>();
  private currentJobId?: string;
  private draining?: Promise<void>;
  private stopping = false;
  private sweepTimer?: NodeJS.Timeout;

  constructor(
    private readonly jobs: RevocationJobsRepository,
    private readonly candidates: RevocationCandidates,
    private readonly lock: RevocationJobLock,
    private readonly commandBus: CommandBus,
    @Inject(GRANT_SERVICE_CONFIG) private readonly config: GrantServiceConfig,
    @InjectPinoLogger(RevocationJobRunner.name) private readonly logger: PinoLogger,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.ADMIN_REVOCATION_AUTO_RESUME) return;
    void this.sweep();
    this.sweepTimer = setInterval(() => void this.sweep(), this.config.ADMIN_REVOCATION_SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  /** Stops after the batch in progress; the job is saved as interrupted and resumes later. */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearInterval(this.sweepTimer);
    this.queue.clear();
    await this.draining;
  }

  /** Queues a job to run on this instance; it is skipped if another instance runs it already. */
  schedule(jobId: string): void {
    if (this.stopping || jobId === this.currentJobId) return;
    this.queue.add(jobId);
    this.drain();
  }

  private drain(): void {
    if (this.draining !== undefined) return;
    this.draining = this.runQueuedJobs().finally(() => {
      this.draining = undefined;
      if (this.queue.size > 0 && !this.stopping) this.drain();
    });
  }

  private async runQueuedJobs(): Promise<void> {
    for (const jobId of this.queue) {
      this.queue.delete(jobId);
      if (this.stopping) return;
      this.currentJobId = jobId;
      try {
        await this.runJob(jobId);
      } finally {
        this.currentJobId = undefined;
      }
    }
  }

  /** Schedules every unfinished job; the job lock keeps those that run elsewhere from running twice. */
  private async sweep(): Promise<void> {
    try {
      for (const jobId of await this.jobs.listUnfinished()) this.schedule(jobId);
    } catch (error) {
      this.logger.error({ err: error }, 'Revocation job sweep failed');
    }
  }

  private async runJob(jobId: string): Promise<void> {
    let lock;
    try {
      lock = await this.lock.tryAcquire(jobId);
    } catch (error) {
      this.logger.error({ err: error, jobId }, 'Revocation job lock could not be taken; the job waits for the next sweep');
      return;
    }
    if (lock === undefined) {
      this.logger.debug({ jobId }, 'Revocation job skipped because another instance runs it');
      return;
    }

    try {
      const job = await this.jobs.claimForRun(jobId);
      if (job === undefined) return;
      this.logger.info(
        { jobId, filter: job.filter, reason: job.reason, total: job.total, resumedAfterGrantId: job.lastGrantId },
        'Revocation job started',
      );
      await this.runBatches(job);
    } catch (error) {
      this.logger.error({ err: error, jobId }, 'Revocation job failed');
      await this.jobs
        .finish(jobId, 'failed', error instanceof Error ? error.message : String(error))
        .catch((saveError: unknown) => this.logger.error({ err: saveError, jobId }, 'Revocation job failure could not be saved'));
    } finally {
      await lock.release().catch((error: unknown) => this.logger.warn({ err: error, jobId }, 'Revocation job lock release failed'));
    }
  }

  private async runBatches(job: RevocationJob): Promise<void> {
    let cursor = job.lastGrantId;
    for (;;) {
      if (this.stopping) {
        await this.jobs.finish(job.jobId, 'interrupted');
        this.logger.info({ jobId: job.jobId, lastGrantId: cursor }, 'Revocation job interrupted by shutdown');
        return;
      }

      const grantIds = await this.candidates.nextBatch(job.filter, cursor, this.config.ADMIN_REVOCATION_BATCH_SIZE);
      if (grantIds.length === 0) {
        await this.jobs.finish(job.jobId, 'completed');
        const finished = await this.jobs.find(job.jobId);
        this.logger.info(
          { jobId: job.jobId, revoked: finished?.revoked, unchanged: finished?.unchanged, failed: finished?.failed },
          'Revocation job completed',
        );
        return;
      }

      const counts = await this.revokeBatch(job, grantIds);
      cursor = grantIds[grantIds.length - 1];
      await this.jobs.recordBatch(job.jobId, counts, cursor);
    }
  }

  /**
   * Revokes one batch with ADMIN_REVOCATION_CONCURRENCY commands at a time. A grant error, such as
   * a concurrency conflict that outlasted the command's retries, leaves that grant active and is
   * counted as failed. Any other error stops the batch, saves the counts so far without moving
   * the cursor, and fails the job. A resumed job then repeats the batch, but does not find the
   * grants it already revoked, because they are no longer active.
   */
  private async revokeBatch(job: RevocationJob, grantIds: readonly string[]): Promise<BatchCounts> {
    const counts: BatchCounts = { revoked: 0, unchanged: 0, failed: 0 };
    let nextIndex = 0;
    let fatalError: { error: unknown } | undefined;

    const revokeNext = async (): Promise<void> => {
      while (fatalError === undefined && nextIndex < grantIds.length) {
        const grantId = grantIds[nextIndex];
        nextIndex += 1;
        try {
          const result = await this.commandBus.execute(new RevokeGrantCommand(grantId, job.reason, job.actor));
          if (result.recorded) counts.revoked += 1;
          else counts.unchanged += 1;
        } catch (error) {
          if (!(error instanceof GrantError)) {
            fatalError ??= { error };
            return;
          }
          counts.failed += 1;
          this.logger.warn({ err: error, jobId: job.jobId, grantId, code: error.code }, 'Revocation job left a grant active after its revocation failed');
        }
      }
    };
    const workers = Math.min(this.config.ADMIN_REVOCATION_CONCURRENCY, grantIds.length);
    await Promise.all(Array.from({ length: workers }, revokeNext));

    if (fatalError !== undefined) {
      await this.jobs.recordBatch(job.jobId, counts, null);
      throw fatalError.error;
    }
    return counts;
  }
}
