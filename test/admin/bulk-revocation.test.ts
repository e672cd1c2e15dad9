import { DataSource } from 'typeorm';

import { dataSourceOptions } from '#persistence/data-source-options.js';
import type { StartedHttpApp } from '#platform/start-http-app.js';
import { seedGrants } from '#testing/grant-seeder.js';
import { waitFor } from '#testing/wait-for.js';

import { type GrantApi, startGrantApi } from '../grant-api/grant-api-harness.js';
import { projectorNames, startProjector } from '../projector/projector-kit.js';
import { waitForTopic } from '../relay/topic-reader.js';
import { activePairCount, adminCallerId, getJob, postRevocation, revocationsPerGrant, waitForCompletedJob } from './admin-revocation-kit.js';

const removedClient = 'client-removed-in-bulk';
const otherClient = 'client-kept';
const removedGrantCount = 10_000;
const otherGrantCount = 300;

async function projectionCounts(dataSource: DataSource, clientId: string): Promise<{ active: number; revoked: number }> {
  const rows: Array<{ status: string; count: number }> = await dataSource.query(
    'SELECT status, count(*)::integer AS count FROM grants WHERE client_id = $1 GROUP BY status',
    [clientId],
  );
  const count = (status: string) => rows.find((row) => row.status === status)?.count ?? 0;
  return { active: count('active'), revoked: count('revoked') };
}

describe('bulk revocation of a removed client', () => {
  const names = projectorNames('bulk-revocation');
  let api: GrantApi;
  let dataSource: DataSource;
  let projector: StartedHttpApp;

  beforeAll(async () => {
    api = await startGrantApi('bulk_revocation', { RELAY_ENABLED: 'true', GRANT_EVENTS_TOPIC: names.topic });
    await waitForTopic(names.topic);
    projector = await startProjector(api.database.url, names);
    dataSource = new DataSource(dataSourceOptions({ databaseUrl: api.database.url, applicationName: 'bulk-revocation-test', poolSize: 16 }));
    await dataSource.initialize();

    // The other client's grants share users with the removed one, so only client_id distinguishes them.
    await seedGrants(
      dataSource,
      [
        ...Array.from({ length: removedGrantCount }, (_, index) => ({ userId: `bulk-user-${index}`, clientId: removedClient })),
        ...Array.from({ length: otherGrantCount }, (_, index) => ({ userId: `bulk-user-${index}`, clientId: otherClient })),
      ],
      16,
    );
    await waitFor(async () => (await projectionCounts(dataSource, removedClient)).active === removedGrantCount, {
      timeoutMs: 120_000,
      intervalMs: 500,
      description: `${removedGrantCount} active projection rows`,
    });
  }, 240_000);

  afterAll(async () => {
    await projector?.app.close();
    await dataSource?.destroy();
    await api?.close();
  });

  it('counts every grant of the client in a dry run', async () => {
    const response = await postRevocation(api, { client_id: removedClient, reason: 'client_removed', dry_run: true });

    expect(response.status).toBe(200);
    expect(response.body.count).toBe(removedGrantCount);
    expect(response.body.sample).toHaveLength(20);
    expect(await activePairCount(api.db, removedClient)).toBe(removedGrantCount);
  });

  describe('when the job runs', () => {
    let jobId: string;

    beforeAll(async () => {
      const response = await postRevocation(api, { client_id: removedClient, reason: 'client_removed' });
      expect(response.status).toBe(202);
      jobId = response.body.job_id;
      await waitForCompletedJob(api, jobId, 180_000);
    }, 200_000);

    it('reports every grant revoked', async () => {
      const job = await getJob(api, jobId);

      expect(job).toMatchObject({ status: 'completed', total: removedGrantCount, revoked: removedGrantCount, unchanged: 0, failed: 0 });
    });

    it('records exactly one GrantRevoked per grant', async () => {
      expect(await activePairCount(api.db, removedClient)).toBe(0);
      expect(await revocationsPerGrant(api.db, removedClient)).toEqual(new Map([[1, removedGrantCount]]));
    });

    it('records the reason and the administrator as actor', async () => {
      const result = await api.db.query<{ reason: string; actor_type: string; actor_id: string; count: number }>(
        `SELECT data->>'reason' AS reason, data->'actor'->>'type' AS actor_type, data->'actor'->>'id' AS actor_id, count(*)::integer AS count
           FROM grant_events WHERE type = 'GrantRevoked' AND data->>'clientId' = $1
          GROUP BY 1, 2, 3`,
        [removedClient],
      );

      expect(result.rows).toEqual([{ reason: 'client_removed', actor_type: 'admin', actor_id: adminCallerId, count: removedGrantCount }]);
    });

    it("leaves the other client's grants untouched", async () => {
      expect(await activePairCount(api.db, otherClient)).toBe(otherGrantCount);
      expect(await revocationsPerGrant(api.db, otherClient)).toEqual(new Map([[0, otherGrantCount]]));
    });

    it('revokes every row of the projection', async () => {
      const counts = await waitFor(
        async () => {
          const current = await projectionCounts(dataSource, removedClient);
          return current.revoked === removedGrantCount ? current : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 500, description: `${removedGrantCount} revoked projection rows` },
      );

      expect(counts).toEqual({ active: 0, revoked: removedGrantCount });
      expect(await projectionCounts(dataSource, otherClient)).toEqual({ active: otherGrantCount, revoked: 0 });
    }, 130_000);
  });
});
