import type { Actor } from '#grant-domain/actor.js';

import { type RevocationFilterJson, toRevocationFilterJson } from './revocation-filter.js';
import type { RevocationJob, RevocationJobStatus } from './revocation-jobs.repository.js';

/** A revocation job in REST bodies. */
export interface RevocationJobJson {
  job_id: string;
  status: RevocationJobStatus;
  filter: RevocationFilterJson;
  reason: string;
  actor: Actor;
  total: number;
  revoked: number;
  unchanged: number;
  failed: number;
  last_grant_id: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export function toRevocationJobJson(job: RevocationJob): RevocationJobJson {
  return {
    job_id: job.jobId,
    status: job.status,
    filter: toRevocationFilterJson(job.filter),
    reason: job.reason,
    actor: job.actor,
    total: job.total,
    revoked: job.revoked,
    unchanged: job.unchanged,
    failed: job.failed,
    last_grant_id: job.lastGrantId,
    last_error: job.lastError,
    created_at: job.createdAt.toISOString(),
    updated_at: job.updatedAt.toISOString(),
    finished_at: job.finishedAt?.toISOString() ?? null,
  };
}
