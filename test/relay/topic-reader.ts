import type { Consumer, IHeaders } from 'kafkajs';

import { createKafkaClient } from '#messaging/kafka-client.js';
import { testKafkaBrokers, uniqueName } from '#testing/test-kafka.js';
import { waitFor } from '#testing/wait-for.js';

export interface ReadMessage {
  partition: number;
  offset: string;
  key: string | undefined;
  value: string | undefined;
  headers: Record<string, string>;
  /** The key, value and headers as received, for decodeGrantEvent. */
  raw: { key: Buffer | null; value: Buffer | null; headers?: IHeaders };
}

function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const strings: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) strings[name] = first.toString();
  }
  return strings;
}

/** Reads a topic from its beginning in a consumer group of its own and keeps every message. */
export class TopicReader {
  readonly messages: ReadMessage[] = [];

  private constructor(private readonly consumer: Consumer) {}

  static async start(topic: string, brokers?: string[]): Promise<TopicReader> {
    const kafka = kafkaClient(brokers);
    const consumer = kafka.consumer({ groupId: uniqueName('topic-reader'), allowAutoTopicCreation: false });
    const reader = new TopicReader(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        reader.messages.push({
          partition,
          offset: message.offset,
          key: message.key?.toString(),
          value: message.value?.toString(),
          headers: headerStrings(message.headers),
          raw: { key: message.key, value: message.value, headers: message.headers },
        });
      },
    });
    return reader;
  }

  /** Waits until each of `eventIds` arrived at least once, and returns the messages that carry them. */
  async waitForEvents(eventIds: readonly string[], timeoutMs = 30_000): Promise<ReadMessage[]> {
    const expected = new Set(eventIds);
    return waitFor(
      () => {
        const seen = new Set(this.messages.map((message) => message.headers.ce_id).filter((id) => expected.has(id)));
        return seen.size === expected.size ? this.messages.filter((message) => expected.has(message.headers.ce_id)) : undefined;
      },
      { timeoutMs, description: `${expected.size} events on the topic` },
    );
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** Creates a client of the test broker, or of `brokers` when a test runs a broker of its own. */
export function kafkaClient(brokers: string[] = testKafkaBrokers()) {
  return createKafkaClient({ clientId: uniqueName('test'), brokers });
}

/** Waits until the broker lists `topic`. */
export async function waitForTopic(topic: string, brokers?: string[]): Promise<void> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    await waitFor(async () => (await admin.listTopics()).includes(topic), { description: `topic ${topic}` });
  } finally {
    await admin.disconnect();
  }
}
