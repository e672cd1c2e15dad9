import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import type { Actor } from '#grant-domain/actor.js';
import type { RevokeReason } from '#grant-domain/revoke-reason.js';

import { fromRevocationFilterJson, type RevocationFilter, type RevocationFilterJson, toRevocationFilterJson } from './revocation-filter.js';

/**
 * `running`: queued or in progress. `interrupted`: stopped by a shutdown between two batches.
 * `failed`: stopped by an error; resumed only on request. `completed`: no matching grant left.
 */
export type RevocationJobStatus = 'running' | 'interrupted' | 'completed' | 'failed';

export interface RevocationJob {
  jobId: string;
  filter: RevocationFilter;
  reason: RevokeReason;
  actor: Actor;
  status: RevocationJobStatus;
  /**
   * Matching active grants when the job was created. A grant created later that matches and sorts
   * after the cursor is revoked too, so `revoked` can exceed it.
   */
  total: number;
  /** Grants this job revoked, each with one GrantRevoked event. */
  revoked: number;
  /** Grants that were revoked by someone else before the job reached them. */
  unchanged: number;
  /** Grants left active because their revocation kept failing, such as on repeated concurrency conflicts. */
  failed: number;
  /** Keyset cursor: the last grant id of the last finished batch. */
  lastGrantId: string | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

/** Outcome counts of one batch, added to the job's counters. */
export interface BatchCounts {
  revoked: number;
  unchanged: number;
  failed: number;
}

interface JobRow {
  job_id: string;
  filter: RevocationFilterJson;
  reason: RevokeReason;
  actor: Actor;
  status: RevocationJobStatus;
  total: number;
  revoked: number;
  unchanged: number;
  failed: number;
  last_grant_id: string | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

function toJob(row: JobRow): RevocationJob {
  return {
    jobId: row.job_id,
    filter: fromRevocationFilterJson(row.filter),
    reason: row.reason,
    actor: row.actor,
    status: row.status,
    total: row.total,
    revoked: row.revoked,
    unchanged: row.unchanged,
    failed: row.failed,
    lastGrantId: row.last_grant_id,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

/** TypeORM returns `[rows, affectedCount]` for UPDATE … RETURNING on PostgreSQL, and the rows for INSERT and SELECT. */
function returnedRows(result: unknown): JobRow[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as JobRow[];
  }
  return result as JobRow[];
}

/** The `revocation_jobs` table. */
@Injectable()
export class RevocationJobsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(job: { jobId: string; filter: RevocationFilter; reason: RevokeReason; actor: Actor; total: number }): Promise<RevocationJob> {
    const result: unknown = await this.dataSource.query(
      `INSERT INTO revocation_jobs (job_id, filter, reason, actor, status, total, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 'running', $5, now(), now())
       RETURNING *`,
      [job.jobId, toRevocationFilterJson(job.filter), job.reason, job.actor, job.total],
    );
    return toJob(returnedRows(result)[0]);
  }

  async find(jobId: string): Promise<RevocationJob | undefined> {
    const rows: JobRow[] = await this.dataSource.query('SELECT * FROM revocation_jobs WHERE job_id = $1', [jobId]);
    return rows[0] === undefined ? undefined : toJob(rows[0]);
  }

  /** Ids of the jobs that should run but may have no runner, such as after a crash; oldest first. */
  async listUnfinished(): Promise<string[]> {
    const rows: Array<{ job_id: string }> = await this.dataSource.query(
      `SELECT job_id FROM revocation_jobs WHERE status IN ('running', 'interrupted') ORDER BY created_at`,
    );
    return rows.map((row) => row.job_id);
  }

  /** Marks an interrupted or failed job as running again; returns undefined when it is missing or completed. */
  async reopen(jobId: string): Promise<RevocationJob | undefined> {
    const result: unknown = await this.dataSource.query(
      `UPDATE revocation_jobs SET status = 'running', finished_at = NULL, updated_at = now()
        WHERE job_id = $1 AND status IN ('running', 'interrupted', 'failed')
        RETURNING *`,
      [jobId],
    );
    const row = returnedRows(result)[0];
    return row === undefined ? undefined : toJob(row);
  }

  /** Takes an unfinished job for a run; the caller holds the job's lock. Returns undefined for a finished job. */
  async claimForRun(jobId: string): Promise<RevocationJob | undefined> {
    const result: unknown = await this.dataSource.query(
      `UPDATE revocation_jobs SET status = 'running', updated_at = now()
        WHERE job_id = $1 AND status IN ('running', 'interrupted')
        RETURNING *`,
      [jobId],
    );
    const row = returnedRows(result)[0];
    return row === undefined ? undefined : toJob(row);
  }

  /** Adds a batch's counts and moves the cursor to `lastGrantId`, or leaves it when that is null. */
  async recordBatch(jobId: string, counts: BatchCounts, lastGrantId: string | null): Promise<void> {
    await this.dataSource.query(
      `UPDATE revocation_jobs
          SET revoked = revoked + $2, unchanged = unchanged + $3, failed = failed + $4,
              last_grant_id = coalesce($5::uuid, last_grant_id), updated_at = now()
        WHERE job_id = $1`,
      [jobId, counts.revoked, counts.unchanged, counts.failed, lastGrantId],
    );
  }

  async finish(jobId: string, status: 'completed' | 'interrupted' | 'failed', error?: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE revocation_jobs
          SET status = $2, last_error = $3, updated_at = now(),
              finished_at = CASE WHEN $2 = 'completed' THEN now() ELSE NULL END
        WHERE job_id = $1`,
      [jobId, status, error ?? null],
    );
  }
}
