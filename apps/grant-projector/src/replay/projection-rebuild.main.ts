// `npm run projection:rebuild [-- --from store|topic]`: rebuilds the grants projection into a fresh
// table and swaps it in while the projector keeps running. It reads the grant projector's variables
// (DATABASE_URL, KAFKA_BROKERS, GRANT_EVENTS_TOPIC, PROJECTION_REBUILD_*) and prints the throughput.
import 'reflect-metadata';

import { pino } from 'pino';
import { DataSource } from 'typeorm';

import { ConfigError } from '#config/config-error.js';
import { loggerOptions } from '#logging/logger-options.js';
import { dataSourceOptions } from '#persistence/data-source-options.js';

import { loadGrantProjectorConfig } from '../config/grant-projector.config.js';
import type { ReplacementResult } from './projection-replacement.js';
import { rebuildProjection } from './rebuild-projection.js';
import { replayProjectionFromTopic } from './topic-replay.js';

const usage = 'usage: npm run projection:rebuild [-- --from store|topic]';

/** The command line is not one that `usage` describes. */
class UsageError extends Error {}

/** Returns the source that `--from store`, `--from topic` or `--from=…` names, or the event store without arguments. */
function parseRebuildSource(argv: readonly string[]): 'store' | 'topic' {
  if (argv.length === 0) return 'store';
  let value: string | undefined;
  if (argv.length === 1 && argv[0].startsWith('--from=')) value = argv[0].slice('--from='.length);
  else if (argv.length === 2 && argv[0] === '--from') value = argv[1];
  if (value !== 'store' && value !== 'topic') {
    throw new UsageError(`invalid arguments "${argv.join(' ')}"; ${usage}`);
  }
  return value;
}

function summary(result: ReplacementResult): string {
  return (
    `rebuilt grants from the ${result.source}: ${result.events} events in ${result.seconds} s (${result.eventsPerSecond} events/s), ${result.rows} rows. ` +
    `Catch-up passes: ${result.catchUpPasses}, swap attempts: ${result.swapAttempts}, grants locked for ${result.lockedMilliseconds} ms.`
  );
}

try {
  const source = parseRebuildSource(process.argv.slice(2));
  const config = loadGrantProjectorConfig();
  const logger = pino(loggerOptions('grant-projector-rebuild', config.LOG_LEVEL));
  // The run lock, the swap transaction, and a reader and a writer that work side by side.
  const dataSource = new DataSource(dataSourceOptions({ databaseUrl: config.DATABASE_URL, applicationName: 'grant-projector-rebuild', poolSize: 6 }));
  await dataSource.initialize();
  try {
    const options = { pageSize: config.PROJECTION_REBUILD_PAGE_SIZE, lockTimeoutMs: config.PROJECTION_REBUILD_LOCK_TIMEOUT_MS, logger };
    const result =
      source === 'store'
        ? await rebuildProjection(dataSource, options)
        : await replayProjectionFromTopic(dataSource, { ...options, brokers: config.KAFKA_BROKERS, topic: config.GRANT_EVENTS_TOPIC });
    console.log(summary(result));
  } finally {
    await dataSource.destroy();
  }
} catch (error) {
  // A failed rebuild has already logged its error with the stack, so one line is enough here.
  console.error(error instanceof ConfigError || error instanceof UsageError ? error.message : `projection rebuild failed: ${String(error)}`);
  process.exitCode = 1;
}
