import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';

import { dataSourceOptions } from '#persistence/data-source-options.js';
import { seedGrants } from '#testing/grant-seeder.js';

import { type ApiResponse, eventsOf, type GrantApi, startGrantApi } from '../grant-api/grant-api-harness.js';
import { activePairCount, adminCallerId, adminToken, postRevocation, waitForCompletedJob } from './admin-revocation-kit.js';

function expectProblem(response: ApiResponse, status: number, code: string, field?: string): void {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body.code).toBe(code);
  if (field !== undefined) expect(response.body.field).toBe(field);
}

describe('administrative revocation requests', () => {
  let api: GrantApi;
  let dataSource: DataSource;
  const oldDate = new Date('2025-01-01T00:00:00.000Z');
  const cutoff = '2025-06-01T00:00:00Z';
  let dryRunGrantIds: string[];

  beforeAll(async () => {
    api = await startGrantApi('admin_revocation_requests', { ADMIN_REVOCATION_BATCH_SIZE: '7' });
    dataSource = new DataSource(dataSourceOptions({ databaseUrl: api.database.url, applicationName: 'admin-requests-test' }));
    await dataSource.initialize();

    // 30 grants of client-dry: even users have offline_access, the first 12 are old.
    const recorded = await seedGrants(
      dataSource,
      Array.from({ length: 30 }, (_, index) => ({
        userId: `dry-user-${index}`,
        clientId: 'client-dry',
        scopes: index % 2 === 0 ? ['openid', 'offline_access'] : ['openid'],
        createdAt: index < 12 ? oldDate : undefined,
      })),
    );
    dryRunGrantIds = recorded.map((event) => event.grantId).sort();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await api?.close();
  });

  describe('when the request is a dry run', () => {
    it('counts the grants of a client and samples 20 of them', async () => {
      const response = await postRevocation(api, { client_id: 'client-dry', reason: 'client_removed', dry_run: true });

      expect(response.status).toBe(200);
      expect(response.body.count).toBe(30);
      expect(response.body.sample).toEqual(dryRunGrantIds.slice(0, 20));
    });

    it('narrows the count by scope', async () => {
      const response = await postRevocation(api, { client_id: 'client-dry', scope: 'offline_access', reason: 'admin', dry_run: true });

      expect(response.body.count).toBe(15);
    });

    it('narrows the count by creation time', async () => {
      const response = await postRevocation(api, { client_id: 'client-dry', created_before: cutoff, reason: 'admin', dry_run: true });

      expect(response.body.count).toBe(12);
    });

    it('combines scope and creation time', async () => {
      const response = await postRevocation(api, {
        client_id: 'client-dry',
        scope: 'offline_access',
        created_before: cutoff,
        reason: 'admin',
        dry_run: true,
      });

      expect(response.body.count).toBe(6);
    });

    it('changes nothing', async () => {
      await postRevocation(api, { client_id: 'client-dry', reason: 'client_removed', dry_run: true });

      expect(await activePairCount(api.db, 'client-dry')).toBe(30);
      const jobs = await api.db.query('SELECT 1 FROM revocation_jobs WHERE filter->>\'client_id\' = $1', ['client-dry']);
      expect(jobs.rowCount).toBe(0);
    });
  });

  describe('when a job revokes the grants of a user', () => {
    it('revokes every client of that user and no other grant', async () => {
      const recorded = await seedGrants(dataSource, [
        { userId: 'leaving-user', clientId: 'client-a' },
        { userId: 'leaving-user', clientId: 'client-b' },
        { userId: 'leaving-user', clientId: 'client-c' },
        { userId: 'staying-user', clientId: 'client-a' },
      ]);

      const response = await postRevocation(api, { user_id: 'leaving-user', reason: 'user_removed' });

      expect(response.status).toBe(202);
      expect(response.headers.get('location')).toBe(`/v1/admin/revocations/${response.body.job_id}`);
      expect(response.body).toMatchObject({
        status: 'running',
        total: 3,
        filter: { user_id: 'leaving-user' },
        reason: 'user_removed',
        actor: { type: 'admin', id: adminCallerId },
      });
      const job = await waitForCompletedJob(api, response.body.job_id);
      expect(job).toMatchObject({ revoked: 3, unchanged: 0, failed: 0 });
      for (const created of recorded.slice(0, 3)) {
        const events = await eventsOf(api.db, created.grantId);
        expect(events.map((event) => event.type)).toEqual(['GrantCreated', 'GrantRevoked']);
        expect(events[1].data.reason).toBe('user_removed');
        expect(events[1].data.actor).toEqual({ type: 'admin', id: adminCallerId });
      }
      expect((await eventsOf(api.db, recorded[3].grantId)).map((event) => event.type)).toEqual(['GrantCreated']);
    });
  });

  describe('when a job revokes grants of a client with a scope', () => {
    it('revokes only the grants holding that scope', async () => {
      await seedGrants(
        dataSource,
        Array.from({ length: 20 }, (_, index) => ({
          userId: `scope-user-${index}`,
          clientId: 'client-scoped',
          scopes: index < 8 ? ['offline_access', 'openid'] : ['openid'],
        })),
      );

      const response = await postRevocation(api, { client_id: 'client-scoped', scope: 'offline_access', reason: 'admin' });
      const job = await waitForCompletedJob(api, response.body.job_id);

      expect(job.total).toBe(8);
      expect(job.revoked).toBe(8);
      expect(await activePairCount(api.db, 'client-scoped')).toBe(12);
    });
  });

  describe('when the same revocation runs again', () => {
    it('finds nothing left and records no event', async () => {
      await seedGrants(dataSource, [{ userId: 'rerun-1', clientId: 'client-rerun' }, { userId: 'rerun-2', clientId: 'client-rerun' }]);
      const first = await postRevocation(api, { client_id: 'client-rerun', reason: 'client_removed' });
      await waitForCompletedJob(api, first.body.job_id);
      const before = await api.db.query('SELECT count(*)::integer AS count FROM grant_events');

      const second = await postRevocation(api, { client_id: 'client-rerun', reason: 'client_removed' });
      const job = await waitForCompletedJob(api, second.body.job_id);

      expect(job).toMatchObject({ total: 0, revoked: 0, unchanged: 0 });
      const after = await api.db.query('SELECT count(*)::integer AS count FROM grant_events');
      expect(after.rows[0].count).toBe(before.rows[0].count);
    });
  });

  describe('when the request has an Idempotency-Key', () => {
    it('creates one job for two identical requests', async () => {
      await seedGrants(dataSource, [{ userId: 'idem-user', clientId: 'client-idem' }]);
      const key = randomUUID();

      const first = await postRevocation(api, { client_id: 'client-idem', reason: 'admin' }, { 'idempotency-key': key });
      const second = await postRevocation(api, { client_id: 'client-idem', reason: 'admin' }, { 'idempotency-key': key });

      expect(first.status).toBe(202);
      expect(second.status).toBe(202);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(second.body.job_id).toBe(first.body.job_id);
      const jobs = await api.db.query("SELECT 1 FROM revocation_jobs WHERE filter->>'client_id' = 'client-idem'");
      expect(jobs.rowCount).toBe(1);
    });
  });

  describe('when a job is read or resumed', () => {
    it('answers 404 for an unknown job', async () => {
      const response = await api.request('GET', `/v1/admin/revocations/${randomUUID()}`, { token: await adminToken(api) });

      expectProblem(response, 404, 'revocation_job.not_found', 'job_id');
    });

    it('answers 400 for a job id that is not a UUID', async () => {
      const response = await api.request('GET', '/v1/admin/revocations/latest', { token: await adminToken(api) });

      expectProblem(response, 400, 'request.invalid_parameter', 'job_id');
    });

    it('answers 409 when resuming a completed job', async () => {
      const created = await postRevocation(api, { user_id: 'nobody-at-all', reason: 'user_removed' });
      await waitForCompletedJob(api, created.body.job_id);

      const response = await api.request('POST', `/v1/admin/revocations/${created.body.job_id}/resume`, { token: await adminToken(api) });

      expectProblem(response, 409, 'revocation_job.completed', 'job_id');
    });
  });

  describe('when the body is invalid', () => {
    it.each([
      ['both user_id and client_id', { user_id: 'u', client_id: 'c', reason: 'admin' }, 'revocation.invalid_filter', 'client_id'],
      ['neither user_id nor client_id', { reason: 'admin' }, 'revocation.invalid_filter', 'user_id'],
      ['no reason', { client_id: 'c' }, 'request.invalid_field', 'reason'],
      ['a reason outside the bulk reasons', { client_id: 'c', reason: 'user' }, 'grant.invalid_reason', 'reason'],
      ['an unknown reason', { client_id: 'c', reason: 'bored' }, 'grant.invalid_reason', 'reason'],
      ['a scope with a space', { client_id: 'c', reason: 'admin', scope: 'a b' }, 'grant.invalid_scopes', 'scope'],
      ['a scope that is not a string', { client_id: 'c', reason: 'admin', scope: ['openid'] }, 'grant.invalid_scopes', 'scope'],
      ['a created_before without a time zone', { client_id: 'c', reason: 'admin', created_before: '2025-01-01T00:00:00' }, 'request.invalid_field', 'created_before'],
      ['a created_before in words', { client_id: 'c', reason: 'admin', created_before: 'yesterday' }, 'request.invalid_field', 'created_before'],
      ['a dry_run that is not a boolean', { client_id: 'c', reason: 'admin', dry_run: 'yes' }, 'request.invalid_field', 'dry_run'],
      ['a misspelt field', { clientId: 'c', reason: 'admin' }, 'request.unknown_field', 'clientId'],
      ['an empty user_id', { user_id: '', reason: 'admin' }, 'grant.invalid_user_id', 'user_id'],
      ['a client_id with a control character', { client_id: 'c\u0000', reason: 'admin' }, 'grant.invalid_client_id', 'client_id'],
    ])('rejects %s', async (_case, body, code, field) => {
      const response = await postRevocation(api, body);

      expectProblem(response, 400, code, field);
    });

    it('rejects a body that is not an object', async () => {
      const response = await postRevocation(api, ['client_id']);

      expectProblem(response, 400, 'request.invalid_body');
    });
  });

  describe('when the caller is not an administrator', () => {
    it('rejects a token without grants:admin', async () => {
      const response = await api.request('POST', '/v1/admin/revocations', { json: { client_id: 'client-dry', reason: 'admin', dry_run: true } });

      expectProblem(response, 403, 'auth.insufficient_scope');
    });

    it('rejects a request without a token', async () => {
      const response = await api.request('GET', `/v1/admin/revocations/${randomUUID()}`, { token: null });

      expectProblem(response, 401, 'auth.invalid_token');
    });
  });
});
