import { DataSource } from 'typeorm';

import { dataSourceOptions } from '#persistence/data-source-options.js';
import type { StartedHttpApp } from '#platform/start-http-app.js';
import { seedGrants } from '#testing/grant-seeder.js';
import { waitFor } from '#testing/wait-for.js';

import { type GrantApi, startGrantApi } from '../grant-api/grant-api-harness.js';
import {
  activePairCount,
  adminToken,
  jobRow,
  postRevocation,
  revocationsPerGrant,
  startServiceInstance,
  waitForCompletedJob,
} from './admin-revocation-kit.js';

const grantsPerClient = 2000;

/** Batches small enough that a job takes many of them, so that it can be stopped halfway. */
const slowJobSettings = { ADMIN_REVOCATION_BATCH_SIZE: 50, ADMIN_REVOCATION_CONCURRENCY: 2, ADMIN_REVOCATION_AUTO_RESUME: false };

describe('interrupted revocation jobs', () => {
  let api: GrantApi;
  let dataSource: DataSource;
  const instances: StartedHttpApp[] = [];

  beforeAll(async () => {
    // The harness's instance resumes nothing by itself, so each test decides which instance resumes.
    api = await startGrantApi('revocation_resume', { ADMIN_REVOCATION_AUTO_RESUME: 'false' });
    dataSource = new DataSource(dataSourceOptions({ databaseUrl: api.database.url, applicationName: 'revocation-resume-test' }));
    await dataSource.initialize();
  });

  afterAll(async () => {
    for (const instance of instances) await instance.app.close().catch(() => undefined);
    await dataSource?.destroy();
    await api?.close();
  });

  async function startInstance(overrides: Parameters<typeof startServiceInstance>[1]): Promise<StartedHttpApp> {
    const instance = await startServiceInstance(api, overrides);
    instances.push(instance);
    return instance;
  }

  /** Starts a job on a slow instance and shuts that instance down once the job is partly done. */
  async function interruptedJob(clientId: string): Promise<string> {
    await seedGrants(
      dataSource,
      Array.from({ length: grantsPerClient }, (_, index) => ({ userId: `resume-user-${index}`, clientId })),
    );
    const worker = await startInstance(slowJobSettings);
    const response = await postRevocation(api, { client_id: clientId, reason: 'client_removed' }, {}, worker.url);
    expect(response.status).toBe(202);
    const jobId: string = response.body.job_id;

    await waitFor(async () => (await jobRow(api.db, jobId)).revoked >= 200, { description: 'the job to revoke its first batches' });
    await worker.app.close();
    return jobId;
  }

  describe('when the instance running a job shuts down', () => {
    let jobId: string;

    beforeAll(async () => {
      jobId = await interruptedJob('client-interrupted');
    });

    it('saves the job as interrupted with its cursor', async () => {
      const row = await jobRow(api.db, jobId);

      expect(row.status).toBe('interrupted');
      expect(row.revoked).toBeGreaterThanOrEqual(200);
      expect(row.revoked).toBeLessThan(grantsPerClient);
      expect(row.last_grant_id).not.toBeNull();
      expect(await activePairCount(api.db, 'client-interrupted')).toBe(grantsPerClient - row.revoked);
    });

    it('finishes the rest at the next start of an instance', async () => {
      const restarted = await startInstance({ ADMIN_REVOCATION_AUTO_RESUME: true });

      const job = await waitForCompletedJob(api, jobId);
      await restarted.app.close();

      expect(job).toMatchObject({ total: grantsPerClient, revoked: grantsPerClient, unchanged: 0, failed: 0 });
      expect(await activePairCount(api.db, 'client-interrupted')).toBe(0);
      expect(await revocationsPerGrant(api.db, 'client-interrupted')).toEqual(new Map([[1, grantsPerClient]]));
    });
  });

  describe('when an instance died while running a job', () => {
    let jobId: string;

    beforeAll(async () => {
      jobId = await interruptedJob('client-crashed');
      // A crashed instance cannot save `interrupted`; its job stays `running` without a lock holder.
      await api.db.query("UPDATE revocation_jobs SET status = 'running' WHERE job_id = $1", [jobId]);
    });

    it('finishes the rest on a resume request', async () => {
      const response = await api.request('POST', `/v1/admin/revocations/${jobId}/resume`, { token: await adminToken(api) });

      expect(response.status).toBe(202);
      expect(response.body.status).toBe('running');
      const job = await waitForCompletedJob(api, jobId);
      expect(job).toMatchObject({ total: grantsPerClient, revoked: grantsPerClient, failed: 0 });
      expect(await revocationsPerGrant(api.db, 'client-crashed')).toEqual(new Map([[1, grantsPerClient]]));
    });

    it('is finished by the periodic sweep of an instance that was running already', async () => {
      const sweeper = await startInstance({ ADMIN_REVOCATION_AUTO_RESUME: true, ADMIN_REVOCATION_SWEEP_INTERVAL_MS: 200 });

      // The sweeper finds the job at once but cannot take its lock until the worker stops.
      const orphanId = await interruptedJob('client-orphaned');

      const job = await waitForCompletedJob(api, orphanId);
      await sweeper.app.close();
      expect(job.revoked).toBe(grantsPerClient);
      expect(await revocationsPerGrant(api.db, 'client-orphaned')).toEqual(new Map([[1, grantsPerClient]]));
    });
  });

  describe('when two instances try to run one job', () => {
    it('lets only one of them revoke each grant', async () => {
      const jobId = await interruptedJob('client-contended');
      const sweepers = { ADMIN_REVOCATION_AUTO_RESUME: true, ADMIN_REVOCATION_SWEEP_INTERVAL_MS: 100 };

      const contenders = await Promise.all([startInstance(sweepers), startInstance(sweepers)]);

      const job = await waitForCompletedJob(api, jobId);
      await Promise.all(contenders.map((contender) => contender.app.close()));
      expect(job.revoked + job.unchanged).toBe(grantsPerClient);
      expect(await revocationsPerGrant(api.db, 'client-contended')).toEqual(new Map([[1, grantsPerClient]]));
    });
  });
});
