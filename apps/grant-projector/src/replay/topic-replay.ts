import { pino } from 'pino';
import type { DataSource } from 'typeorm';

import { type ReplacementResult, replaceProjection } from './projection-replacement.js';
import { rebuildDefaults, type RebuildOptions } from './rebuild-projection.js';
import { TopicReplaySource } from './topic-replay-source.js';

/**
 * Options of a replay from the topic. Batches follow the broker's fetch sizes, so `pageSize` only
 * sets the catch-up threshold: a pass with fewer events ends the catch-up.
 */
export interface TopicReplayOptions extends RebuildOptions {
  brokers: string[];
  topic: string;
  /** A wait for the replay consumer fails after this long without a message. */
  progressTimeoutMs?: number;
}

/**
 * Rebuilds the `grants` projection from the topic's earliest offsets into a fresh table and swaps
 * it in while the live projector keeps running, for deployments that trust the log. The topic must
 * still hold every event from offset 0.
 */
export async function replayProjectionFromTopic(dataSource: DataSource, options: TopicReplayOptions): Promise<ReplacementResult> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const pageSize = options.pageSize ?? rebuildDefaults.pageSize;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new TypeError(`pageSize must be a positive integer, not ${pageSize}`);
  const source = new TopicReplaySource(dataSource, {
    brokers: options.brokers,
    topic: options.topic,
    progressTimeoutMs: options.progressTimeoutMs ?? 60_000,
    logger,
  });
  return replaceProjection(dataSource, source, {
    lockTimeoutMs: options.lockTimeoutMs ?? rebuildDefaults.lockTimeoutMs,
    swapAttempts: options.swapAttempts ?? rebuildDefaults.swapAttempts,
    maxCatchUpPasses: options.maxCatchUpPasses ?? rebuildDefaults.maxCatchUpPasses,
    catchUpThreshold: pageSize,
    logger,
    onPhase: options.onPhase,
  });
}
