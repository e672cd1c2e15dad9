import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';

import { decodeGrantEvent, GrantEventDecodeError } from '#grant-events/grant-event-codec.js';
import { ensureTopic } from '#messaging/ensure-topic.js';
import { createKafkaClient } from '#messaging/kafka-client.js';
import type { Kafka } from '#messaging/kafka.module.js';

import { GRANT_PROJECTOR_CONFIG, type GrantProjectorConfig } from '../config/grant-projector.config.js';
import { isDatabaseUnavailable } from './database-errors.js';
import { DeadLetterPublisher } from './dead-letter-publisher.js';
import type { ProjectableGrantEvent } from './grant-row.js';
import { projectionMetrics, type ProjectionMetrics } from './projection.metrics.js';
import { type ProjectionOutcome, ProjectionWriter } from './projection-writer.js';

/**
 * State of the grant-events consumer:
 * - starting: the first start attempt runs.
 * - retrying: a start attempt failed, and another follows.
 * - running: the consumer runs in its group.
 * - restarting: it crashed and starts again.
 * - stopped: the app is closing.
 */
export type ConsumerState = 'starting' | 'retrying' | 'running' | 'restarting' | 'stopped';

/**
 * Retries of the consumer's Kafka client. With the kafkajs defaults (5 retries, waits growing up to
 * 30 s) a connection attempt during a broker outage hangs for tens of seconds and holds up shutdown.
 * With these it fails within seconds, and the consumer's own backoff takes over.
 */
const kafkaRetry = { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 };

/** Pauses between retries double from the first value up to the maximum. */
const startBackoff = { firstMs: 200, maxMs: 5000 };
const databaseBackoff = { firstMs: 100, maxMs: 2000 };
const attemptBackoff = { firstMs: 200, maxMs: 5000 };

/**
 * Messages are keyed by grant id, so batches of different partitions touch different grants and
 * do not wait for each other's row locks. Handling three at once overlaps their database round trips.
 */
const partitionsConsumedConcurrently = 3;

/** One message of a batch: decoded, or the reason it cannot be. */
interface BatchEntry {
  message: KafkaMessage;
  decoded: ProjectableGrantEvent | GrantEventDecodeError;
}

/** The batch handler's view of its partition, to stop when the consumer stops or loses the partition. */
interface PartitionControl {
  topic: string;
  partition: number;
  heartbeat: () => Promise<void>;
  resolveOffset: (offset: string) => void;
  /** Commits `offset` as the next one to read for this partition. */
  commitOffset: (offset: string) => Promise<void>;
  isActive: () => boolean;
}

function backoffMs(settings: { firstMs: number; maxMs: number }, attempt: number): number {
  return Math.min(settings.firstMs * 2 ** Math.max(0, attempt - 1), settings.maxMs);
}

function decode(message: KafkaMessage): ProjectableGrantEvent | GrantEventDecodeError {
  try {
    const envelope = decodeGrantEvent(message);
    return { eventId: envelope.id, grantId: envelope.subject, version: envelope.version, position: envelope.position, event: envelope.event };
  } catch (error) {
    if (error instanceof GrantEventDecodeError) return error;
    return new GrantEventDecodeError(error instanceof Error ? error.message : String(error));
  }
}

function headerText(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first?.toString();
}

/**
 * Consumes the grant-events topic in a consumer group and applies each batch to the grants table
 * with ProjectionWriter. Offsets are committed only after the transaction that applied them.
 *
 * Failure policy: a message that cannot be decoded is parked on the dead-letter topic at once,
 * because decoding gives the same result every time. A message whose application fails for another
 * reason is tried PROJECTOR_MAX_ATTEMPTS times with growing pauses, then parked. An unavailable
 * database is no fault of the message, so the partition waits and retries until it is back.
 */
@Injectable()
export class GrantEventsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(GrantEventsConsumer.name);
  private readonly metrics: ProjectionMetrics = projectionMetrics();
  private readonly kafka: Kafka;
  private readonly deadLetters: DeadLetterPublisher;
  private consumer: Consumer | undefined;
  private currentState: ConsumerState = 'starting';
  private starting: Promise<void> | undefined;
  private stopping = false;
  private readonly wakeUps = new Set<() => void>();
  /** Time of the first crash since the consumer last joined its group. */
  private crashedSince: number | undefined;
  /** Start of the current database outage; undefined while the database is available. */
  private databaseDownSince: number | undefined;

  constructor(
    @Inject(GRANT_PROJECTOR_CONFIG) private readonly config: GrantProjectorConfig,
    private readonly writer: ProjectionWriter,
  ) {
    this.kafka = createKafkaClient({ clientId: 'grant-projector-consumer', brokers: config.KAFKA_BROKERS, retry: kafkaRetry });
    this.deadLetters = new DeadLetterPublisher(this.kafka, config.GRANT_EVENTS_DLQ_TOPIC);
  }

  get state(): ConsumerState {
    return this.currentState;
  }

  onApplicationBootstrap(): void {
    // Starting runs in the background, so the app comes up even while Kafka or the topic is missing.
    this.starting = this.start();
  }

  /** Leaves the group after the batch in flight; runs before the database pool and Kafka connections close. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.currentState = 'stopped';
    for (const wakeUp of this.wakeUps) wakeUp();
    await this.consumer?.disconnect().catch(() => undefined);
    await this.starting;
    // A start attempt that was connecting when shutdown began may have left a consumer behind.
    await this.consumer?.disconnect().catch(() => undefined);
    await this.deadLetters.close();
  }

  private async start(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt += 1) {
      try {
        await this.connectAndRun();
        this.currentState = 'running';
        if (attempt > 1) this.logger.log({ topic: this.config.GRANT_EVENTS_TOPIC, attempts: attempt }, 'Projector consumer started after retrying');
        return;
      } catch (error) {
        if (this.stopping) return;
        if (attempt === 1) {
          this.logger.error(
            { err: error, topic: this.config.GRANT_EVENTS_TOPIC, groupId: this.config.GRANT_PROJECTOR_GROUP_ID },
            'Projector consumer could not start; retrying until Kafka and the topic are available',
          );
        }
        if (this.currentState !== 'restarting') this.currentState = 'retrying';
        await this.consumer?.disconnect().catch(() => undefined);
        this.consumer = undefined;
        await this.pause(backoffMs(startBackoff, attempt));
      }
    }
  }

  private async connectAndRun(): Promise<void> {
    // The relay creates the topic too; whichever app starts first does it, with the same settings.
    const created = await ensureTopic(this.kafka, { topic: this.config.GRANT_EVENTS_TOPIC, partitions: this.config.GRANT_EVENTS_PARTITIONS });
    if (created) {
      this.logger.log({ topic: this.config.GRANT_EVENTS_TOPIC, partitions: this.config.GRANT_EVENTS_PARTITIONS }, 'Projector created the topic');
    }
    await this.deadLetters.ensureTopic();

    const consumer = this.kafka.consumer({ groupId: this.config.GRANT_PROJECTOR_GROUP_ID, allowAutoTopicCreation: false });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (this.stopping) return;
      this.currentState = 'running';
      if (this.crashedSince !== undefined) {
        this.logger.log({ topic: this.config.GRANT_EVENTS_TOPIC, outageMs: Date.now() - this.crashedSince }, 'Projector consumer joined its group again');
        this.crashedSince = undefined;
      }
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => this.onCrash(consumer, payload.error, payload.restart));

    await consumer.connect();
    await consumer.subscribe({ topics: [this.config.GRANT_EVENTS_TOPIC], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  /** kafkajs restarts a consumer after a retriable crash by itself; after any other crash this starts a new one. */
  private onCrash(consumer: Consumer, error: Error, restartsItself: boolean): void {
    if (this.stopping || consumer !== this.consumer) return;
    this.currentState = 'restarting';
    // During a broker outage kafkajs crashes and restarts over and over: log the first crash only.
    if (this.crashedSince === undefined) {
      this.crashedSince = Date.now();
      this.logger.error({ err: error, topic: this.config.GRANT_EVENTS_TOPIC, restartsItself }, 'Projector consumer crashed; starting it again');
    }
    if (restartsItself) return;
    this.starting = (async () => {
      await consumer.disconnect().catch(() => undefined);
      await this.start();
    })();
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const control: PartitionControl = {
      topic: batch.topic,
      partition: batch.partition,
      heartbeat: payload.heartbeat,
      resolveOffset: payload.resolveOffset,
      // With explicit offsets this commits exactly them, whatever the autoCommit settings.
      commitOffset: (offset) =>
        payload.commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset }] }] }),
      isActive: () => payload.isRunning() && !payload.isStale() && !this.stopping,
    };
    const entries: BatchEntry[] = batch.messages.map((message) => ({ message, decoded: decode(message) }));
    const events = entries.flatMap((entry) => (entry.decoded instanceof GrantEventDecodeError ? [] : [entry.decoded]));

    let outcome: ProjectionOutcome | undefined;
    try {
      outcome = await this.applyUntilDatabaseAnswers(events, control);
    } catch (error) {
      // One of the messages cannot be applied; handling them one by one finds it and parks it alone.
      // The failing message's own log line carries the error with its stack.
      this.logger.warn(
        {
          error: error instanceof Error ? error.message : String(error),
          topic: batch.topic,
          partition: batch.partition,
          firstOffset: batch.firstOffset(),
          lastOffset: batch.lastOffset(),
        },
        'Applying a batch of grant events failed; applying its messages one at a time',
      );
      if (await this.handleOneByOne(entries, control)) this.recordLag(payload);
      return;
    }
    if (outcome === undefined) return;
    this.count(outcome);

    for (const entry of entries) {
      if (entry.decoded instanceof GrantEventDecodeError && !(await this.park(entry.message, 1, entry.decoded, control))) return;
    }
    await this.commit(batch.lastOffset(), control);
    this.recordLag(payload);
  }

  private recordLag({ batch }: EachBatchPayload): void {
    this.metrics.lagMessages.set({ partition: String(batch.partition) }, Number(batch.offsetLag()));
  }

  /** Handles each message in its own transaction, committing after each. Returns false if stopped. */
  private async handleOneByOne(entries: readonly BatchEntry[], control: PartitionControl): Promise<boolean> {
    for (const entry of entries) {
      if (!(await this.handleMessage(entry, control))) return false;
      await this.commit(entry.message.offset, control);
    }
    return true;
  }

  /** Applies one message, retrying a bounded number of times before parking it. Returns false if stopped. */
  private async handleMessage(entry: BatchEntry, control: PartitionControl): Promise<boolean> {
    if (entry.decoded instanceof GrantEventDecodeError) return this.park(entry.message, 1, entry.decoded, control);

    for (let attempt = 1; ; attempt += 1) {
      try {
        const outcome = await this.applyUntilDatabaseAnswers([entry.decoded], control);
        if (outcome === undefined) return false;
        this.count(outcome);
        return true;
      } catch (error) {
        if (attempt >= this.config.PROJECTOR_MAX_ATTEMPTS) return this.park(entry.message, attempt, error, control);
        if (attempt === 1) {
          this.logger.warn(
            { err: error, ...this.messageContext(entry.message, control), maxAttempts: this.config.PROJECTOR_MAX_ATTEMPTS },
            'Applying a grant event failed; retrying it before parking it',
          );
        }
        await this.pause(backoffMs(attemptBackoff, attempt));
        await control.heartbeat();
        if (!control.isActive()) return false;
      }
    }
  }

  /**
   * Applies `events`, retrying for as long as the database is unavailable; returns undefined when
   * the consumer stopped or lost the partition meanwhile. Any other error is raised.
   */
  private async applyUntilDatabaseAnswers(
    events: readonly ProjectableGrantEvent[],
    control: PartitionControl,
  ): Promise<ProjectionOutcome | undefined> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const outcome = await this.writer.apply(events);
        this.databaseAnswered();
        return outcome;
      } catch (error) {
        if (!isDatabaseUnavailable(error)) throw error;
        this.databaseFailed(error, control);
        await this.pause(backoffMs(databaseBackoff, attempt));
        await control.heartbeat();
        if (!control.isActive()) return undefined;
      }
    }
  }

  /**
   * Produces `message` to the dead-letter topic, retrying while Kafka is unavailable, and logs it.
   * Returns false when the consumer stopped before the broker acknowledged it.
   */
  private async park(message: KafkaMessage, attempts: number, error: unknown, control: PartitionControl): Promise<boolean> {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    for (let retry = 1; ; retry += 1) {
      try {
        await this.deadLetters.park(message, {
          topic: control.topic,
          partition: control.partition,
          groupId: this.config.GRANT_PROJECTOR_GROUP_ID,
          attempts,
          error: reason,
        });
        break;
      } catch (produceError) {
        if (retry === 1) {
          this.logger.error(
            { err: produceError, ...this.messageContext(message, control), deadLetterTopic: this.config.GRANT_EVENTS_DLQ_TOPIC },
            'Producing a message to the dead-letter topic failed; retrying',
          );
        }
        await this.pause(backoffMs(databaseBackoff, retry));
        await control.heartbeat();
        if (!control.isActive()) return false;
      }
    }

    this.metrics.messagesParked.inc();
    this.logger.error(
      { ...this.messageContext(message, control), attempts, error: reason, deadLetterTopic: this.config.GRANT_EVENTS_DLQ_TOPIC },
      'Parked a grant event message on the dead-letter topic',
    );
    return true;
  }

  /** Commits the offset after `offset`, once everything up to it is applied or parked. */
  private async commit(offset: string, control: PartitionControl): Promise<void> {
    control.resolveOffset(offset);
    await control.commitOffset((BigInt(offset) + 1n).toString());
  }

  private count(outcome: ProjectionOutcome): void {
    this.metrics.eventsApplied.inc(outcome.applied);
    this.metrics.duplicatesSkipped.inc(outcome.duplicates);
    this.metrics.gapsFilled.inc(outcome.gapFilled);
  }

  /** Logs the first failure of a database outage only. */
  private databaseFailed(error: unknown, control: PartitionControl): void {
    if (this.databaseDownSince !== undefined) return;
    this.databaseDownSince = Date.now();
    this.logger.error(
      { err: error, topic: control.topic, partition: control.partition },
      'Projection database is unavailable; the consumer waits and retries until it is back',
    );
  }

  private databaseAnswered(): void {
    if (this.databaseDownSince === undefined) return;
    this.logger.log({ outageMs: Date.now() - this.databaseDownSince }, 'Projection database is available again; the consumer continues');
    this.databaseDownSince = undefined;
  }

  private messageContext(message: KafkaMessage, control: PartitionControl) {
    return { topic: control.topic, partition: control.partition, offset: message.offset, eventId: headerText(message, 'ce_id') };
  }

  /** Waits `milliseconds`, or less when shutdown begins. */
  private pause(milliseconds: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wakeUps.delete(finish);
        resolve();
      };
      const timer = setTimeout(finish, milliseconds);
      this.wakeUps.add(finish);
    });
  }
}
