import type { DataSource } from 'typeorm';

import { applyPage, type GapFiller } from './rebuild-writer.js';
import { addProgress, emptyProgress, type ReplayProgress, type ReplaySource } from './replay-source.js';
import { checkpointAfter, type ReplayedGrantEvent, type StoreCheckpoint, StoreEventReader, storeStart } from './store-event-reader.js';

/** A grant's stream in the event store skips versions, which appends with an expected version never do. */
export class EventStoreGapError extends Error {
  override readonly name = 'EventStoreGapError';

  constructor(
    readonly grantId: string,
    readonly fromVersion: number,
    readonly toVersion: number,
  ) {
    super(
      `grant ${grantId} has no events with versions ${fromVersion} to ${toVersion} in the event store but has version ${toVersion + 1}. ` +
        'The grant_events table was changed outside the event store, so restore the missing rows before rebuilding.',
    );
  }
}

const failOnGap: GapFiller = (grantId, fromVersion, toVersion) => Promise.reject(new EventStoreGapError(grantId, fromVersion, toVersion));

/**
 * Replays grant_events from the start with keyset pages in (transaction id, position) order. While
 * a page is applied, the next one is already being read on another connection.
 */
export class StoreReplaySource implements ReplaySource {
  readonly name = 'event-store';
  private readonly reader: StoreEventReader;
  /** End of the events read with readSettledAfter. No event can appear before it any more. */
  private settled: StoreCheckpoint = storeStart;

  constructor(
    private readonly dataSource: DataSource,
    private readonly pageSize: number,
  ) {
    this.reader = new StoreEventReader(dataSource);
  }

  async copyAvailable(onProgress: (progress: ReplayProgress) => void): Promise<ReplayProgress> {
    const progress = emptyProgress();
    let page = await this.reader.readSettledAfter(this.settled, this.pageSize);
    while (page.length > 0) {
      const after = checkpointAfter(this.settled, page);
      const next = page.length < this.pageSize ? Promise.resolve([]) : this.reader.readSettledAfter(after, this.pageSize);
      // When applying this page fails, this handler keeps a failed next read from going unhandled.
      next.catch(() => undefined);

      addProgress(progress, page.length, await applyPage(this.dataSource.manager, page, failOnGap));
      this.settled = after;
      onProgress(progress);
      page = await next;
    }
    return progress;
  }

  /**
   * Reads past the settled checkpoint without moving it. The events read here come after
   * transactions that were still running, and those may commit earlier events later. A later
   * copyAvailable reads these again, and the upsert keeps rows that already have their versions.
   */
  async copyRemaining(): Promise<ReplayProgress> {
    const progress = emptyProgress();
    let checkpoint = this.settled;
    for (;;) {
      const page: ReplayedGrantEvent[] = await this.reader.readCommittedAfter(this.dataSource.manager, checkpoint, this.pageSize);
      if (page.length === 0) return progress;
      addProgress(progress, page.length, await applyPage(this.dataSource.manager, page, failOnGap));
      checkpoint = checkpointAfter(checkpoint, page);
    }
  }

  async close(): Promise<void> {}
}
