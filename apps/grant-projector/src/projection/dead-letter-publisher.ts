import type { IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';

import { ensureTopic } from '#messaging/ensure-topic.js';

/** Origin of a parked message and the reason it was parked. */
export interface ParkedMessageOrigin {
  topic: string;
  partition: number;
  groupId: string;
  attempts: number;
  error: string;
}

/** Headers added to a parked message, beside its original ones. */
export const deadLetterHeaders = {
  topic: 'dlq_original_topic',
  partition: 'dlq_original_partition',
  offset: 'dlq_original_offset',
  timestamp: 'dlq_original_timestamp',
  groupId: 'dlq_consumer_group',
  attempts: 'dlq_attempts',
  error: 'dlq_error',
} as const;

/** Maximum length of the error text in the dlq_error header. */
const maxErrorHeaderLength = 1000;

/** Produces messages that cannot be applied to the dead-letter topic, unchanged apart from added headers. */
export class DeadLetterPublisher {
  private producer: Producer | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
  ) {}

  /** Creates the dead-letter topic, with one partition and infinite retention, when it is missing. */
  async ensureTopic(): Promise<void> {
    await ensureTopic(this.kafka, { topic: this.topic, partitions: 1 });
  }

  /** Sends `message` with its key, value and headers plus headers naming its origin; resolves once acknowledged. */
  async park(message: KafkaMessage, origin: ParkedMessageOrigin): Promise<void> {
    const headers: IHeaders = {
      ...message.headers,
      [deadLetterHeaders.topic]: origin.topic,
      [deadLetterHeaders.partition]: String(origin.partition),
      [deadLetterHeaders.offset]: message.offset,
      [deadLetterHeaders.timestamp]: message.timestamp,
      [deadLetterHeaders.groupId]: origin.groupId,
      [deadLetterHeaders.attempts]: String(origin.attempts),
      [deadLetterHeaders.error]: origin.error.slice(0, maxErrorHeaderLength),
    };
    try {
      const producer = await this.connectedProducer();
      await producer.send({ topic: this.topic, acks: -1, messages: [{ key: message.key, value: message.value, headers }] });
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
      // kafkajs retries an idempotent send forever by default. A bounded retry lets a broker outage
      // surface as an error, which the consumer logs once and retries with its own backoff.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    this.producer = producer;
    await producer.connect();
    return producer;
  }
}
