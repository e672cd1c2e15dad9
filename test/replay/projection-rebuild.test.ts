import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import type { DataSource } from 'typeorm';

import { loadGrantServiceConfig } from '../../apps/grant-service/src/config/grant-service.config.js';
import { GrantServiceModule } from '../../apps/grant-service/src/grant-service.module.js';
import { ReplacementAlreadyRunningError, type ReplacementPhase } from '../../apps/grant-projector/src/replay/projection-replacement.js';
import { rebuildProjection } from '../../apps/grant-projector/src/replay/rebuild-projection.js';
import { EventStoreGapError } from '../../apps/grant-projector/src/replay/store-replay-source.js';
import type { StartedHttpApp } from '#platform/start-http-app.js';
import { startTestApp, testEnvironment } from '#testing/test-apps.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';
import { waitFor } from '#testing/wait-for.js';

import { messageCount, projectorNames, startProjector } from '../projector/projector-kit.js';
import { GrantStreams, heldOpenStore, openDataSource } from '../relay/grant-streams.js';
import { waitForTopic } from '../relay/topic-reader.js';
import {
  activeGrantIds,
  appendGrantMix,
  appendSomeChanges,
  projectionCaughtUp,
  projectionRows,
  projectionTableShape,
  rowsFoldedFromStore,
  tableExists,
} from './replay-kit.js';

/** The machine runs other suites at the same time, so catching up may take a while. */
const catchUpTimeout = { timeoutMs: 90_000, description: 'the live projection to reach every event of the store' };

describe('when the projection is rebuilt while the live projector runs', () => {
  const names = projectorNames('rebuild-live');
  let database: TestDatabase;
  let dataSource: DataSource;
  let service: StartedHttpApp;
  let projector: StartedHttpApp;

  beforeAll(async () => {
    database = await createTestDatabase('rebuild_live');
    dataSource = await openDataSource(database.url);
    service = await startTestApp('grant-service', GrantServiceModule.forRoot(loadGrantServiceConfig(testEnvironment(database.url, { GRANT_EVENTS_TOPIC: names.topic }))));
    await waitForTopic(names.topic);
    projector = await startProjector(database.url, names);
  });

  afterAll(async () => {
    await projector?.app.close();
    await service?.app.close();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('produces the same rows as the live projection', async () => {
    await appendGrantMix(dataSource, 40);
    await dataSource.query('GRANT SELECT ON grants TO PUBLIC');
    await waitFor(() => projectionCaughtUp(dataSource), catchUpTimeout);
    const liveRows = await projectionRows(dataSource);
    const shapeBefore = await projectionTableShape(dataSource);
    const [{ events }]: Array<{ events: number }> = await dataSource.query('SELECT count(*)::integer AS events FROM grant_events');

    // Pages of 7 events split some streams across pages, so those rows continue from an earlier page.
    const result = await rebuildProjection(dataSource, { pageSize: 7 });

    expect(await projectionRows(dataSource)).toEqual(liveRows);
    expect(liveRows).toHaveLength(40);
    expect(liveRows.filter((row) => row.status === 'revoked')).toHaveLength(14);
    expect(liveRows.filter((row) => row.version > 1 && row.status === 'active').length).toBeGreaterThan(0);
    expect(result).toMatchObject({ source: 'event-store', events, rows: 40, swapAttempts: 1 });
    expect(result.seconds).toBeGreaterThan(0);
    expect(result.eventsPerSecond).toBeGreaterThan(0);
    expect(await projectionTableShape(dataSource)).toEqual(shapeBefore);
    expect(shapeBefore.privileges).toContainEqual({ grantee: 'PUBLIC', privilege_type: 'SELECT' });
    expect(await tableExists(dataSource, 'grants_rebuild')).toBe(false);
  });

  it('keeps every event appended during the rebuild', async () => {
    await appendGrantMix(dataSource, 12);
    const actives = await activeGrantIds(dataSource);
    let writing = true;
    const writer = (async () => {
      let rounds = 0;
      while (writing) {
        await appendSomeChanges(dataSource, actives);
        rounds += 1;
      }
      return rounds;
    })();
    const phasesSeen: ReplacementPhase[] = [];
    const appendDuring = async (phase: ReplacementPhase) => {
      phasesSeen.push(phase);
      await appendSomeChanges(dataSource, actives);
      // The relay publishes these events and the live projector waits on the lock to apply them.
      if (phase === 'locked') await waitFor(() => projectorWaitsForLock(dataSource), { description: 'the live projector to wait for the lock on grants' });
    };

    const result = await rebuildProjection(dataSource, { pageSize: 5, onPhase: appendDuring });
    writing = false;
    const rounds = await writer;
    // Appended after the swap, so the live projector must apply it to the new table.
    const afterSwap = randomUUID();
    await GrantStreams.over(dataSource).create(afterSwap, ['openid']);

    await waitFor(() => projectionCaughtUp(dataSource), catchUpTimeout);
    expect(phasesSeen).toEqual(['copied', 'caught-up', 'locked']);
    expect(rounds).toBeGreaterThan(0);
    expect(result.swapAttempts).toBe(1);
    expect(await projectionRows(dataSource)).toEqual(await rowsFoldedFromStore(dataSource));
    expect((await projectionRows(dataSource)).map((row) => row.grant_id)).toContain(afterSwap);
    expect(await messageCount(names.deadLetterTopic)).toBe(0);
  });

  it('retries the swap when a reader holds grants past the lock timeout', async () => {
    await appendGrantMix(dataSource, 3);
    await waitFor(() => projectionCaughtUp(dataSource), catchUpTimeout);
    const reader = new pg.Client({ connectionString: database.url });
    await reader.connect();
    let releaseReader: Promise<unknown> | undefined;
    // The reader's open transaction keeps an ACCESS SHARE lock on grants until the first timeout.
    const logger = pino({ level: 'warn' }, {
      write: (line: string) => {
        if (line.includes('timed out waiting for the lock on grants')) releaseReader ??= reader.query('COMMIT');
      },
    });
    const holdGrants = async (phase: ReplacementPhase) => {
      if (phase !== 'caught-up') return;
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM grants');
    };

    try {
      const result = await rebuildProjection(dataSource, { lockTimeoutMs: 300, swapAttempts: 3, logger, onPhase: holdGrants });

      expect(result.swapAttempts).toBe(2);
      expect(await projectionRows(dataSource)).toEqual(await rowsFoldedFromStore(dataSource));
    } finally {
      await releaseReader;
      await reader.end();
    }
  });
});

describe('when the projection is rebuilt from the event store alone', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase('rebuild_store');
    dataSource = await openDataSource(database.url);
    await appendGrantMix(dataSource, 10);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('applies an event whose lower position commits after a higher one', async () => {
    const held = heldOpenStore(dataSource);
    const heldGrantId = randomUUID();
    const laterGrantId = randomUUID();
    let heldAppend: Promise<unknown> | undefined;
    const interleave = async (phase: ReplacementPhase) => {
      if (phase === 'copied') {
        heldAppend = new GrantStreams(held.store).create(heldGrantId);
        await waitFor(() => transactionHeldOpen(dataSource), { description: 'the held append to take its position' });
        await GrantStreams.over(dataSource).create(laterGrantId);
      }
      if (phase === 'caught-up') {
        held.release();
        await heldAppend;
      }
    };

    await rebuildProjection(dataSource, { pageSize: 4, onPhase: interleave });

    const rows = await projectionRows(dataSource);
    const heldRow = rows.find((row) => row.grant_id === heldGrantId);
    const laterRow = rows.find((row) => row.grant_id === laterGrantId);
    expect(heldRow?.status).toBe('active');
    expect(laterRow?.status).toBe('active');
    expect(BigInt(heldRow!.position)).toBeLessThan(BigInt(laterRow!.position));
    expect(rows).toEqual(await rowsFoldedFromStore(dataSource));
  });

  it('rejects a second rebuild while one runs', async () => {
    let second: Promise<unknown> | undefined;
    const startSecond = (phase: ReplacementPhase) => {
      if (phase === 'copied') second = rebuildProjection(dataSource).catch((error: unknown) => error);
    };

    await rebuildProjection(dataSource, { onPhase: startSecond });

    const error = await second;
    expect(error).toBeInstanceOf(ReplacementAlreadyRunningError);
    expect((error as Error).message).toMatch(/another projection rebuild or replay is running/);
    expect(await projectionRows(dataSource)).toEqual(await rowsFoldedFromStore(dataSource));
  });

  it('leaves grants unchanged when grants stays locked', async () => {
    const rowsBefore = await projectionRows(dataSource);
    const reader = new pg.Client({ connectionString: database.url });
    await reader.connect();
    await reader.query('BEGIN');
    await reader.query('SELECT count(*) FROM grants');
    await GrantStreams.over(dataSource).create(randomUUID());

    try {
      const failure = await rebuildProjection(dataSource, { lockTimeoutMs: 100, swapAttempts: 2 }).catch((error: unknown) => error);

      expect(failure).toBeInstanceOf(Error);
      expect((failure as { driverError?: { code?: string } }).driverError?.code ?? (failure as { code?: string }).code).toBe('55P03');
    } finally {
      await reader.query('COMMIT');
      await reader.end();
    }
    expect(await projectionRows(dataSource)).toEqual(rowsBefore);
    expect(await tableExists(dataSource, 'grants_rebuild')).toBe(false);
  });

  it('fails on a stream that skips a version and leaves grants unchanged', async () => {
    const rowsBefore = await projectionRows(dataSource);
    const grantId = randomUUID();
    const [created] = await GrantStreams.over(dataSource).create(grantId);
    await dataSource.query(
      `INSERT INTO grant_events (event_id, grant_id, version, type, data, metadata, recorded_at)
       SELECT $1, grant_id, 3, 'GrantRevoked', data || '{"reason": "admin"}'::jsonb, metadata, recorded_at FROM grant_events WHERE event_id = $2`,
      [randomUUID(), created.eventId],
    );

    try {
      const failure = await rebuildProjection(dataSource).catch((error: unknown) => error);

      expect(failure).toBeInstanceOf(EventStoreGapError);
      expect((failure as Error).message).toContain(`grant ${grantId} has no events with versions 2 to 2`);
      expect(await projectionRows(dataSource)).toEqual(rowsBefore);
      expect(await tableExists(dataSource, 'grants_rebuild')).toBe(false);
    } finally {
      await dataSource.query('DELETE FROM grant_events WHERE grant_id = $1 AND version = 3', [grantId]);
    }
  });
});

describe('when the rebuild command runs', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase('rebuild_command');
    dataSource = await openDataSource(database.url, 2);
    await appendGrantMix(dataSource, 6);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  /** Runs the built command (npm test builds first) with the projector's variables and `extra`. */
  function runCommand(args: string[], extra: Record<string, string> = {}) {
    const result = spawnSync(process.execPath, ['dist/apps/grant-projector/src/replay/projection-rebuild.main.js', ...args], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'warn', DATABASE_URL: database.url, KAFKA_BROKERS: '127.0.0.1:9092', ...extra },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it('rebuilds grants and prints the throughput', async () => {
    const { status, stdout, stderr } = runCommand(['--from', 'store']);

    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toMatch(/^rebuilt grants from the event-store: \d+ events in [\d.]+ s \(\d+ events\/s\), 6 rows\./);
    expect(await projectionRows(dataSource)).toEqual(await rowsFoldedFromStore(dataSource));
  });

  it('rejects an unknown source with the usage', () => {
    const { status, stderr } = runCommand(['--from=backup']);

    expect(status).toBe(1);
    expect(stderr).toContain('invalid arguments "--from=backup"; usage: npm run projection:rebuild [-- --from store|topic]');
  });

  it('names a malformed variable', () => {
    const { status, stderr } = runCommand([], { PROJECTION_REBUILD_PAGE_SIZE: '5' });

    expect(status).toBe(1);
    expect(stderr).toContain('PROJECTION_REBUILD_PAGE_SIZE must be a whole number of events from 100 to 100000');
  });
});

/** Returns whether a connection to this database sits in an open transaction, as heldOpenStore leaves it. */
async function transactionHeldOpen(dataSource: DataSource): Promise<boolean> {
  const [{ held }]: Array<{ held: number }> = await dataSource.query(
    `SELECT count(*)::integer AS held FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'`,
  );
  return held > 0;
}

/** Returns whether a statement of the grant projector waits for a lock, such as the swap's lock on grants. */
async function projectorWaitsForLock(dataSource: DataSource): Promise<boolean> {
  const [{ waiting }]: Array<{ waiting: number }> = await dataSource.query(
    `SELECT count(*)::integer AS waiting FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = 'grant-projector' AND wait_event_type = 'Lock'`,
  );
  return waiting > 0;
}
