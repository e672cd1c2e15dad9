import { Logger } from '@nestjs/common';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';

import { decodeGrantEvent, GrantEventDecodeError } from '#grant-events/grant-event-codec.js';
import type { KafkaConnections } from '#messaging/kafka.module.js';

import { counter } from '../common/metrics.js';
import type { ActiveGrantTable, GrantChange } from './active-grant-table.js';

const restartBackoff = { firstMs: 200, maxMs: 5000 };

const appliedEvents = () =>
  counter('token_service_grant_state_events_total', 'Grant events read into the in-memory grant state, by outcome (applied, duplicate or invalid)', [
    'outcome',
  ]);

function headerText(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  return (Array.isArray(value) ? value[0] : value)?.toString();
}

/** Maps a decoded grant event to a change of the table. */
export function grantChangeOf(message: KafkaMessage): GrantChange {
  const envelope = decodeGrantEvent(message);
  const { event } = envelope;
  const common = {
    grantId: envelope.subject,
    version: envelope.version,
    position: Number(envelope.position),
    userId: event.data.userId,
    clientId: event.data.clientId,
    scopes: event.data.scopes,
  };
  switch (event.type) {
    case 'GrantCreated':
      return { kind: 'created', ...common, occurredAtMs: Date.parse(event.data.occurredAt) };
    case 'GrantScopesChanged':
      return { kind: 'scopes_changed', ...common };
    case 'GrantRevoked':
      return { kind: 'revoked', ...common };
  }
}

/**
 * A Kafka consumer that applies grant events to one instance's table. Its consumer group belongs
 * to this instance alone, so every instance reads every event, revocations included.
 *
 * Offsets are committed after each batch (kafkajs autoCommit), which is after the batch is in the
 * table, so a rejoin after a broker restart resumes there. A message that is not a valid grant
 * event is counted, logged and skipped. The projector parks the same message, so the projection,
 * which stays the authority, does not reflect it either.
 */
export class GrantEventsFollower {
  private readonly logger = new Logger(GrantEventsFollower.name);
  private consumer: Consumer | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private crashedSince: number | undefined;
  /** Per partition, the offset of the next message to apply. */
  private readonly next = new Map<number, bigint>();
  /** Per partition, the first offset to apply, because messages below it are in the loaded rows. */
  private readonly firstOffsets = new Map<number, bigint>();

  constructor(
    private readonly kafka: Kafka,
    private readonly connections: KafkaConnections,
    private readonly table: ActiveGrantTable,
    readonly topic: string,
    readonly groupId: string,
  ) {}

  /**
   * Starts consuming. A partition listed in `startOffsets` starts at its offset there, and
   * messages below it are never applied, even if kafkajs delivers some before the seek takes
   * effect. Any other partition starts at its earliest message.
   */
  async start(startOffsets: ReadonlyArray<{ partition: number; offset: string }>): Promise<void> {
    for (const { partition, offset } of startOffsets) {
      this.firstOffsets.set(partition, BigInt(offset));
      this.next.set(partition, BigInt(offset));
    }
    await this.connectAndRun();
    // consumer.run has joined the group, so every partition is assigned and the seeks apply.
    // A seek commits its offset (autoCommit), so a rejoin resumes there too.
    for (const { partition, offset } of startOffsets) this.consumer?.seek({ topic: this.topic, partition, offset });
  }

  /** Returns the next offset to apply per partition. A partition not listed has applied nothing yet. */
  nextOffsets(): ReadonlyMap<number, bigint> {
    return this.next;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    await this.consumer?.disconnect().catch(() => undefined);
  }

  private async connectAndRun(): Promise<void> {
    const consumer = this.connections.track(this.kafka.consumer({ groupId: this.groupId, allowAutoTopicCreation: false }));
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => this.onCrash(consumer, payload.error, payload.restart));
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (this.crashedSince === undefined) return;
      this.logger.log({ topic: this.topic, groupId: this.groupId, outageMs: Date.now() - this.crashedSince }, 'Grant state consumer joined its group again');
      this.crashedSince = undefined;
    });

    await consumer.connect();
    // Without a committed offset (a partition the caller did not list), start at the beginning,
    // because replaying is harmless and skipping is not.
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await consumer.run({ eachBatch: (payload) => this.applyBatch(payload) });
  }

  private async applyBatch({ batch }: EachBatchPayload): Promise<void> {
    let applied = 0;
    let duplicates = 0;
    const firstOffset = this.firstOffsets.get(batch.partition) ?? 0n;
    for (const message of batch.messages) {
      if (BigInt(message.offset) < firstOffset) continue;
      let outcome: 'applied' | 'duplicate';
      try {
        outcome = this.table.apply(grantChangeOf(message)) ? 'applied' : 'duplicate';
      } catch (error) {
        // ajv-formats 3's uuid format admits a `urn:uuid:` prefix, which the table rejects with a TypeError.
        if (!(error instanceof GrantEventDecodeError) && !(error instanceof TypeError)) throw error;
        appliedEvents().inc({ outcome: 'invalid' });
        this.logger.error(
          { topic: batch.topic, partition: batch.partition, offset: message.offset, eventId: headerText(message, 'ce_id'), reason: error.message },
          'Skipped a message that is not a valid grant event',
        );
        continue;
      }
      if (outcome === 'applied') applied += 1;
      else duplicates += 1;
    }
    appliedEvents().inc({ outcome: 'applied' }, applied);
    appliedEvents().inc({ outcome: 'duplicate' }, duplicates);
    const next = BigInt(batch.lastOffset()) + 1n;
    if (next > firstOffset) this.next.set(batch.partition, next);
  }

  /** Starts a new consumer after a crash that kafkajs does not recover from by itself. */
  private onCrash(consumer: Consumer, error: Error, restartsItself: boolean): void {
    if (this.stopping || consumer !== this.consumer) return;
    if (this.crashedSince === undefined) {
      this.crashedSince = Date.now();
      this.logger.error({ err: error, topic: this.topic, groupId: this.groupId, restartsItself }, 'Grant state consumer crashed, starting it again');
    }
    if (!restartsItself) void this.restart(consumer, 1);
  }

  private async restart(crashed: Consumer, attempt: number): Promise<void> {
    await crashed.disconnect().catch(() => undefined);
    if (this.stopping) return;
    try {
      // The group's committed offsets (or the beginning) decide where the new consumer resumes.
      await this.connectAndRun();
    } catch (error) {
      const delayMs = Math.min(restartBackoff.firstMs * 2 ** (attempt - 1), restartBackoff.maxMs);
      this.logger.warn({ err: error, topic: this.topic, groupId: this.groupId, attempt, delayMs }, 'Starting the grant state consumer failed, retrying');
      const failed = this.consumer;
      this.restartTimer = setTimeout(() => {
        if (failed) void this.restart(failed, attempt + 1);
      }, delayMs);
    }
  }
}
