import type { PageOutcome } from './rebuild-writer.js';

/** Events a replay source read and applied to `grants_rebuild`. */
export interface ReplayProgress extends PageOutcome {
  /** Events read from the source, whether applied or skipped as duplicates. */
  events: number;
}

export function emptyProgress(): ReplayProgress {
  return { events: 0, applied: 0, duplicates: 0, gapFilled: 0 };
}

/** Adds `page`, read from the source as `events` events, to `total`. */
export function addProgress(total: ReplayProgress, events: number, page: PageOutcome): void {
  total.events += events;
  total.applied += page.applied;
  total.duplicates += page.duplicates;
  total.gapFilled += page.gapFilled;
}

/** Source of the events a replay applies: the event store, or the topic from its first offset. */
export interface ReplaySource {
  /** Names the source in logs and results. */
  readonly name: 'event-store' | 'topic';

  /**
   * Applies the events available now to `grants_rebuild`, stopping where an earlier event could
   * still appear. Called for the first copy and again for each catch-up pass.
   */
  copyAvailable(onProgress: (progress: ReplayProgress) => void): Promise<ReplayProgress>;

  /**
   * Applies every event that the live projector can have applied to `grants`. Called while the
   * swap transaction holds `grants` locked, so no such event is added meanwhile. When the swap
   * fails afterwards, copyAvailable must still find the events it would have found before.
   */
  copyRemaining(): Promise<ReplayProgress>;

  close(): Promise<void>;
}
