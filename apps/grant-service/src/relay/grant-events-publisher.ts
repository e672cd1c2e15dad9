import type { Kafka, Producer } from 'kafkajs';

import { encodeGrantEvent } from '#grant-events/grant-event-codec.js';
import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';
import { ensureTopic, type TopicSettings } from '#messaging/ensure-topic.js';

/**
 * Sends recorded grant events to the topic with an idempotent producer and acks from every in-sync
 * replica. A failed send discards the producer, so that the retry starts with a new producer id
 * instead of sequence numbers the broker may no longer accept.
 */
export class GrantEventsPublisher {
  private producer: Producer | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: TopicSettings,
  ) {}

  /** Creates the topic when it is missing; returns false when it already existed. */
  ensureTopic(): Promise<boolean> {
    return ensureTopic(this.kafka, this.settings);
  }

  /** Sends `events` in order and resolves once the broker acknowledged all of them. */
  async publish(events: readonly RecordedGrantEvent[]): Promise<void> {
    try {
      const producer = await this.connectedProducer();
      await producer.send({ topic: this.settings.topic, acks: -1, messages: events.map(encodeGrantEvent) });
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  private async connectedProducer(): Promise<Producer> {
    if (this.producer !== undefined) return this.producer;
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // kafkajs retries an idempotent send forever by default. A bounded retry lets the relay
      // notice an outage, log it and back off, and lets shutdown finish while the broker is away.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    this.producer = producer;
    await producer.connect();
    return producer;
  }
}
