import { pino, type Logger } from 'pino';
import type { DataSource, QueryRunner } from 'typeorm';

import {
  createRebuildTable,
  dropRebuildTable,
  finishBulkLoad,
  lockNotAvailable,
  lockProjectionTable,
  rebuildTableName,
  replaceProjectionTable,
} from './rebuild-table.js';
import { addProgress, emptyProgress, type ReplayProgress, type ReplaySource } from './replay-source.js';

/**
 * Moments of a replacement, reported to `onPhase`:
 * - copied: the first copy into `grants_rebuild` is done.
 * - caught-up: the catch-up passes are done and the swap begins.
 * - locked: the swap transaction holds `grants` locked, before the last events are applied.
 */
export type ReplacementPhase = 'copied' | 'caught-up' | 'locked';

export interface ReplacementOptions {
  /** Maximum wait for the lock on `grants` per swap attempt. */
  lockTimeoutMs: number;
  /** Swap attempts before the replacement gives up. A catch-up pass runs between two attempts. */
  swapAttempts: number;
  /** A catch-up pass that applies fewer events than this ends the catch-up. */
  catchUpThreshold: number;
  /** Maximum number of catch-up passes, so that a steady stream of appends cannot delay the swap forever. */
  maxCatchUpPasses: number;
  /** Logger of the progress and phase lines, silent when unset. */
  logger?: Logger;
  /** Called at each phase and awaited, for tests that append events at a given moment. */
  onPhase?: (phase: ReplacementPhase) => Promise<void> | void;
}

/** Outcome of a replacement, for reports and benchmarks. */
export interface ReplacementResult {
  source: ReplaySource['name'];
  /** Events read from the source and applied, over every phase. */
  events: number;
  /** Wall time from the start to the committed swap. */
  seconds: number;
  eventsPerSecond: number;
  /** Rows of `grants` after the swap. */
  rows: number;
  catchUpPasses: number;
  swapAttempts: number;
  /** Time the successful swap transaction held `grants` locked. */
  lockedMilliseconds: number;
  progress: ReplayProgress;
}

/** Another rebuild or replay holds the lock that lets one run at a time on a database. */
export class ReplacementAlreadyRunningError extends Error {
  override readonly name = 'ReplacementAlreadyRunningError';
}

/** Key of the session advisory lock that lets one rebuild or replay run at a time on a database. */
const replacementLockName = 'grant-projection-replacement';

/** Minimum time between two progress log lines. */
const progressLogIntervalMs = 5000;

/**
 * Builds a new projection in `grants_rebuild` from `source` and swaps it in for `grants` without
 * stopping the live projector:
 *
 * 1. Copy every available event, then run catch-up passes for the events appended meanwhile.
 * 2. In one transaction, lock `grants` (ACCESS EXCLUSIVE), apply the events the live projector may
 *    already have applied, then drop `grants` and rename `grants_rebuild` to `grants`.
 *
 * Every event the live projector applied to the old table is in the new one, so its upserts, which
 * skip versions a row already has, stay correct on the new table. Statements of the live projector
 * that wait for the lock run on the new table once it is released.
 *
 * When the replacement fails, `grants` is left as it was and `grants_rebuild` is dropped.
 */
export async function replaceProjection(dataSource: DataSource, source: ReplaySource, options: ReplacementOptions): Promise<ReplacementResult> {
  const logger = (options.logger ?? pino({ level: 'silent' })).child({ context: 'ProjectionReplacement', source: source.name });
  const startedAt = performance.now();
  const lock = await takeReplacementLock(dataSource);
  try {
    const deferredIndexes = await createRebuildTable(dataSource.manager);
    logger.info({ table: rebuildTableName }, 'Projection replacement started');
    try {
      return await copyAndSwap(dataSource, source, options, logger, startedAt, deferredIndexes);
    } catch (error) {
      logger.error({ err: error, table: rebuildTableName }, 'Projection replacement failed and left grants unchanged');
      await dropRebuildTable(dataSource.manager).catch(() => undefined);
      throw error;
    }
  } finally {
    await source.close();
    await releaseReplacementLock(lock);
  }
}

async function copyAndSwap(
  dataSource: DataSource,
  source: ReplaySource,
  options: ReplacementOptions,
  logger: Logger,
  startedAt: number,
  deferredIndexes: readonly string[],
): Promise<ReplacementResult> {
  const total = emptyProgress();
  let loggedAt = performance.now();
  let loggedBefore = 0;
  const logProgress = (progress: ReplayProgress) => {
    const now = performance.now();
    if (now - loggedAt < progressLogIntervalMs) return;
    const events = loggedBefore + progress.events;
    logger.info({ events, eventsPerSecond: Math.round(events / ((now - startedAt) / 1000)) }, 'Projection replacement is copying events');
    loggedAt = now;
  };
  const copy = async () => {
    loggedBefore = total.events;
    const progress = await source.copyAvailable(logProgress);
    addProgress(total, progress.events, progress);
    return progress;
  };

  await copy();
  await finishBulkLoad(dataSource.manager, deferredIndexes);
  logger.info({ events: total.events, seconds: Math.round(performance.now() - startedAt) / 1000 }, 'Projection replacement copied the available events');
  await options.onPhase?.('copied');

  let catchUpPasses = 0;
  while (catchUpPasses < options.maxCatchUpPasses) {
    catchUpPasses += 1;
    if ((await copy()).events < options.catchUpThreshold) break;
  }
  await options.onPhase?.('caught-up');

  for (let attempt = 1; ; attempt += 1) {
    try {
      const lockedMilliseconds = await swap(dataSource, source, options, total);
      const milliseconds = performance.now() - startedAt;
      const [{ rows }]: Array<{ rows: number }> = await dataSource.query('SELECT count(*)::integer AS rows FROM grants');
      const result: ReplacementResult = {
        source: source.name,
        events: total.events,
        seconds: Math.round(milliseconds / 10) / 100,
        eventsPerSecond: Math.round((total.events * 1000) / Math.max(milliseconds, 1)),
        rows,
        catchUpPasses,
        swapAttempts: attempt,
        lockedMilliseconds,
        progress: total,
      };
      const { progress, source: _source, ...summary } = result;
      logger.info({ ...summary, duplicates: progress.duplicates, gapFilled: progress.gapFilled }, 'Projection replacement swapped in the new grants table');
      return result;
    } catch (error) {
      if (!isLockTimeout(error) || attempt >= options.swapAttempts) throw error;
      logger.warn({ attempt, lockTimeoutMs: options.lockTimeoutMs }, 'Projection replacement timed out waiting for the lock on grants and retries after a catch-up pass');
      await copy();
    }
  }
}

/** Runs the swap transaction and returns how long it held `grants` locked, in milliseconds. */
async function swap(dataSource: DataSource, source: ReplaySource, options: ReplacementOptions, total: ReplayProgress): Promise<number> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.startTransaction('READ COMMITTED');
    try {
      await lockProjectionTable(runner.manager, options.lockTimeoutMs);
      const lockedAt = performance.now();
      await options.onPhase?.('locked');
      // The source reads and writes on other connections of the pool. Their snapshots are taken
      // after the lock was granted, so they see every event the live projector could have applied.
      const remaining = await source.copyRemaining();
      await replaceProjectionTable(runner.manager);
      await runner.commitTransaction();
      addProgress(total, remaining.events, remaining);
      return Math.round(performance.now() - lockedAt);
    } catch (error) {
      await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  } finally {
    await runner.release();
  }
}

async function takeReplacementLock(dataSource: DataSource): Promise<QueryRunner> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    const [{ locked }]: Array<{ locked: boolean }> = await runner.query('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [
      replacementLockName,
    ]);
    if (!locked) {
      throw new ReplacementAlreadyRunningError(
        'another projection rebuild or replay is running on this database, and only one may run at a time, so wait for it to finish',
      );
    }
    return runner;
  } catch (error) {
    await runner.release();
    throw error;
  }
}

async function releaseReplacementLock(runner: QueryRunner): Promise<void> {
  try {
    await runner.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [replacementLockName]);
  } finally {
    await runner.release();
  }
}

/** Returns whether `error` is PostgreSQL's lock_not_available, which TypeORM wraps with the driver error inside. */
function isLockTimeout(error: unknown): boolean {
  const { code, driverError } = error as { code?: unknown; driverError?: { code?: unknown } };
  return (code ?? driverError?.code) === lockNotAvailable;
}
