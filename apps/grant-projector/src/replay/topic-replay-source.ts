import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';

import { decodeGrantEvent, GrantEventDecodeError } from '#grant-events/grant-event-codec.js';
import { createKafkaClient } from '#messaging/kafka-client.js';
import { GrantEventStore } from '#persistence/grant-event-store.js';

import type { ProjectableGrantEvent } from '../projection/grant-row.js';
import { ProjectionGapError } from '../projection/projection-writer.js';
import { applyPage, type GapFiller } from './rebuild-writer.js';
import { addProgress, emptyProgress, type ReplayProgress, type ReplaySource } from './replay-source.js';

export interface TopicReplaySettings {
  brokers: string[];
  topic: string;
  /** A wait for the consumer fails after this long without a new batch. */
  progressTimeoutMs: number;
  logger: Logger;
}

/** The topic cannot be replayed: it is missing, or its earliest events were deleted. */
export class TopicReplayError extends Error {
  override readonly name = 'TopicReplayError';
}

/** Number of undecodable messages logged one by one. Later ones are only counted. */
const loggedUndecodableMessages = 10;

/** Same bounds as the live consumer's client: a broker outage fails a request within seconds. */
const kafkaRetry = { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 };

/**
 * Replays the topic from its earliest offsets with a consumer group of its own, named
 * `grant-projector-replay-<uuid>`, which commits no offset and is deleted at the end.
 *
 * The consumer runs in the background and applies each batch as it arrives. Each copy waits until
 * the consumer reached the latest offsets as they were when the copy began. Applying events beyond
 * them is harmless, because the new table may be ahead of the live one. Like the live projector, the
 * replay skips messages it cannot decode (the live projector parks them on the dead-letter topic),
 * skips redelivered versions and reads versions missing from the topic from the event store.
 */
export class TopicReplaySource implements ReplaySource {
  readonly name = 'topic';
  private readonly kafka: Kafka;
  private readonly store: GrantEventStore;
  private readonly groupId = `grant-projector-replay-${randomUUID()}`;
  private readonly logger: Logger;
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  /** Offset after the last applied message, by partition. */
  private readonly nextOffsets = new Map<number, bigint>();
  private readonly total = emptyProgress();
  private undecodable = 0;
  private failure: unknown;
  private closed = false;
  /** Whether the consumer joined its group, which then exists on the broker until deleted. */
  private joined = false;
  /** While set, batches wait before writing, because the swap is renaming the table they write to. */
  private writesHeld: { released: Promise<void>; release: () => void } | undefined;
  /** The batch being written, if any. */
  private writing: Promise<void> | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: TopicReplaySettings,
  ) {
    this.logger = settings.logger.child({ context: 'TopicReplaySource', topic: settings.topic, groupId: this.groupId });
    this.kafka = createKafkaClient({ clientId: 'grant-projector-replay', brokers: settings.brokers, retry: kafkaRetry }, this.logger);
    this.store = new GrantEventStore(dataSource);
  }

  async copyAvailable(onProgress: (progress: ReplayProgress) => void): Promise<ReplayProgress> {
    const targets = await this.latestOffsets();
    if (this.consumer === undefined) await this.startConsumer(targets);
    this.releaseWrites();
    return this.consumeTo(targets, onProgress);
  }

  /**
   * Waits until the consumer reached the latest offsets as they are now, under the swap lock, then
   * holds further writes until close, or until copyAvailable after a failed swap.
   */
  async copyRemaining(): Promise<ReplayProgress> {
    const progress = await this.consumeTo(await this.latestOffsets(), () => undefined);
    this.holdWrites();
    await this.writing;
    return progress;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.releaseWrites();
    await this.consumer?.disconnect().catch(() => undefined);
    if (this.joined) {
      // After the disconnect the group has no members, and with autoCommit off it committed no offset.
      await this.admin?.deleteGroups([this.groupId]).catch((error: unknown) => {
        this.logger.warn({ err: error }, 'Deleting the replay consumer group failed, so delete it with the Kafka admin tools');
      });
    }
    await this.admin?.disconnect().catch(() => undefined);
    if (this.undecodable > 0) {
      this.logger.warn({ undecodable: this.undecodable }, 'Topic replay skipped messages that are not valid grant events');
    }
  }

  /** Fetches the latest offset of each partition, and raises TopicReplayError when the topic lost its earliest events. */
  private async latestOffsets(): Promise<Map<number, bigint>> {
    if (this.admin === undefined) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    let offsets: Array<{ partition: number; high: string; low: string }>;
    try {
      offsets = await this.admin.fetchTopicOffsets(this.settings.topic);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new TopicReplayError(`reading the offsets of topic ${this.settings.topic} failed (${reason}), so check GRANT_EVENTS_TOPIC and KAFKA_BROKERS`, {
        cause: error,
      });
    }
    const truncated = offsets.find((entry) => entry.low !== '0');
    if (truncated !== undefined) {
      throw new TopicReplayError(
        `partition ${truncated.partition} of topic ${this.settings.topic} starts at offset ${truncated.low}, so its earlier events were deleted. ` +
          'Rebuild from the event store instead with npm run projection:rebuild.',
      );
    }
    return new Map(offsets.map((entry) => [entry.partition, BigInt(entry.high)]));
  }

  private async startConsumer(targets: Map<number, bigint>): Promise<void> {
    for (const partition of targets.keys()) this.nextOffsets.set(partition, 0n);
    const consumer = this.kafka.consumer({ groupId: this.groupId, allowAutoTopicCreation: false, maxBytesPerPartition: 8 * 1024 * 1024 });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.joined = true;
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.fail(payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.settings.topic], fromBeginning: true });
    await consumer.run({ autoCommit: false, partitionsConsumedConcurrently: 1, eachBatch: (payload) => this.handleBatch(payload) });
  }

  private async handleBatch({ batch }: EachBatchPayload): Promise<void> {
    if (this.failure !== undefined || batch.messages.length === 0) return;
    while (this.writesHeld !== undefined) await this.writesHeld.released;
    if (this.closed) return;
    this.writing = this.applyBatch(batch);
    await this.writing;
    this.writing = undefined;
  }

  private async applyBatch(batch: EachBatchPayload['batch']): Promise<void> {
    try {
      const events = batch.messages.flatMap((message) => this.decode(message, batch.partition));
      addProgress(this.total, batch.messages.length, await applyPage(this.dataSource.manager, events, this.fillFromStore));
      this.nextOffsets.set(batch.partition, BigInt(batch.lastOffset()) + 1n);
      this.notify();
    } catch (error) {
      // The batch is not applied, so no later batch may be either. Consuming stops and the replay fails.
      this.consumer?.pause([{ topic: this.settings.topic }]);
      this.fail(error);
    }
  }

  private decode(message: KafkaMessage, partition: number): ProjectableGrantEvent[] {
    try {
      const envelope = decodeGrantEvent(message);
      return [{ eventId: envelope.id, grantId: envelope.subject, version: envelope.version, position: envelope.position, event: envelope.event }];
    } catch (error) {
      this.undecodable += 1;
      if (this.undecodable <= loggedUndecodableMessages) {
        const reason = error instanceof GrantEventDecodeError ? error.reason : String(error);
        const eventId = error instanceof GrantEventDecodeError ? error.eventId : undefined;
        this.logger.warn({ partition, offset: message.offset, eventId, reason }, 'Topic replay skipped a message that is not a valid grant event');
      }
      return [];
    }
  }

  private readonly fillFromStore: GapFiller = async (grantId, fromVersion, toVersion) => {
    const missing = await this.store.readVersions(grantId, fromVersion, toVersion);
    const complete = missing.length === toVersion - fromVersion + 1 && missing.every((event, index) => event.version === fromVersion + index);
    if (!complete) throw new ProjectionGapError(grantId, fromVersion, toVersion);
    return missing;
  };

  /** Resolves once every partition reached its target, and raises when the consumer failed or stalled. */
  private async consumeTo(targets: Map<number, bigint>, onProgress: (progress: ReplayProgress) => void): Promise<ReplayProgress> {
    const start = { ...this.total };
    const since = () => ({
      events: this.total.events - start.events,
      applied: this.total.applied - start.applied,
      duplicates: this.total.duplicates - start.duplicates,
      gapFilled: this.total.gapFilled - start.gapFilled,
    });
    let lastEvents = this.total.events;
    let lastProgressAt = performance.now();
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      if ([...targets].every(([partition, target]) => (this.nextOffsets.get(partition) ?? 0n) >= target)) return since();
      if (this.total.events !== lastEvents) {
        lastEvents = this.total.events;
        lastProgressAt = performance.now();
        onProgress(since());
      } else if (performance.now() - lastProgressAt > this.settings.progressTimeoutMs) {
        throw new TopicReplayError(
          `the topic replay timed out after ${this.settings.progressTimeoutMs} ms without a message from ${this.settings.topic} before the latest offsets, ` +
            'so check that the Kafka brokers in KAFKA_BROKERS are reachable',
        );
      }
      await this.changed(1000);
    }
  }

  /** Waits for the next applied batch or failure, or for `timeoutMs`. */
  private changed(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.listeners.add(done);
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private fail(error: unknown): void {
    this.failure ??= error;
    this.notify();
  }

  private holdWrites(): void {
    if (this.writesHeld !== undefined) return;
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.writesHeld = { released, release };
  }

  private releaseWrites(): void {
    this.writesHeld?.release();
    this.writesHeld = undefined;
  }
}
