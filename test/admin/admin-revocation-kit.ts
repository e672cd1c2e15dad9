// Helpers shared by the bulk-revocation suites: admin tokens, job polling and event-store checks.
import type { DynamicModule } from '@nestjs/common';
import pg from 'pg';

import { GRANT_SERVICE_CONFIG, type GrantServiceConfig } from '../../apps/grant-service/src/config/grant-service.config.js';
import { GrantServiceModule } from '../../apps/grant-service/src/grant-service.module.js';
import type { StartedHttpApp } from '#platform/start-http-app.js';
import { startTestApp } from '#testing/test-apps.js';
import { waitFor } from '#testing/wait-for.js';

import type { ApiResponse, GrantApi } from '../grant-api/grant-api-harness.js';

export const adminCallerId = 'admin-console';

export interface JobJson {
  job_id: string;
  status: 'running' | 'interrupted' | 'completed' | 'failed';
  total: number;
  revoked: number;
  unchanged: number;
  failed: number;
  last_grant_id: string | null;
  last_error: string | null;
  reason: string;
  actor: { type: string; id: string };
  filter: Record<string, string>;
}

/** Signs a token with the grants:admin scope for the harness's issuer. */
export function adminToken(api: GrantApi): Promise<string> {
  return api.token({ scope: 'grants:admin', clientId: adminCallerId });
}

/** POST /v1/admin/revocations as the admin caller. */
export async function postRevocation(api: GrantApi, body: unknown, headers: Record<string, string> = {}, url?: string): Promise<ApiResponse> {
  const token = await adminToken(api);
  if (url === undefined) return api.request('POST', '/v1/admin/revocations', { json: body, token, headers });
  const response = await fetch(`${url}/v1/admin/revocations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

export async function getJob(api: GrantApi, jobId: string): Promise<JobJson> {
  const response = await api.request('GET', `/v1/admin/revocations/${jobId}`, { token: await adminToken(api) });
  if (response.status !== 200) throw new Error(`GET job ${jobId} returned ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body as JobJson;
}

/** Polls the job until it has completed, and returns it. */
export function waitForCompletedJob(api: GrantApi, jobId: string, timeoutMs = 60_000): Promise<JobJson> {
  return waitFor(
    async () => {
      const job = await getJob(api, jobId);
      if (job.status === 'failed') throw new Error(`job ${jobId} failed: ${job.last_error}`);
      return job.status === 'completed' ? job : undefined;
    },
    { timeoutMs, intervalMs: 100, description: `revocation job ${jobId} to complete` },
  );
}

/** Reads the job row directly from the database, without the API. */
export async function jobRow(db: pg.Client, jobId: string): Promise<{ status: string; revoked: number; total: number; last_grant_id: string | null }> {
  const result = await db.query('SELECT status, revoked, total, last_grant_id FROM revocation_jobs WHERE job_id = $1', [jobId]);
  return result.rows[0];
}

/** Number of grants of a client that still hold an active (user, client) pair in the event store. */
export async function activePairCount(db: pg.Client, clientId: string): Promise<number> {
  const result = await db.query<{ count: number }>('SELECT count(*)::integer AS count FROM active_grant_pairs WHERE client_id = $1', [clientId]);
  return result.rows[0].count;
}

/** GrantRevoked events per grant of a client: how many grants have 0, 1, 2, … of them. */
export async function revocationsPerGrant(db: pg.Client, clientId: string): Promise<Map<number, number>> {
  const result = await db.query<{ revocations: number; grants: number }>(
    `SELECT revocations, count(*)::integer AS grants FROM (
       SELECT grant_id, count(*) FILTER (WHERE type = 'GrantRevoked')::integer AS revocations
         FROM grant_events WHERE data->>'clientId' = $1 GROUP BY grant_id) per_grant
     GROUP BY revocations`,
    [clientId],
  );
  return new Map(result.rows.map((row) => [row.revocations, row.grants]));
}

/** Another grant-service instance on the harness's database and token issuer, with config overrides. */
export function startServiceInstance(api: GrantApi, overrides: Partial<GrantServiceConfig>): Promise<StartedHttpApp> {
  const config = api.app.get<symbol, GrantServiceConfig>(GRANT_SERVICE_CONFIG);
  const module: DynamicModule = GrantServiceModule.forRoot({ ...config, ...overrides });
  return startTestApp('grant-service', module);
}
