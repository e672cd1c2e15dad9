import type { KafkaMessage } from 'kafkajs';

import { createTestTopic, testKafkaClient, uniqueName } from '#testing/test-kafka.js';
import { waitFor } from '#testing/wait-for.js';

describe('kafkajs against the local broker', () => {
  it('produces, consumes in a group and commits offsets', async () => {
    const topic = uniqueName('foundation');
    const groupId = uniqueName('foundation-group');
    await createTestTopic(topic, 2);
    const kafka = testKafkaClient();

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { key: 'a', value: 'first' },
        { key: 'b', value: 'second' },
        { key: 'a', value: 'third' },
      ],
    });
    await producer.disconnect();

    const received: KafkaMessage[] = [];
    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        received.push(message);
        await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      },
    });
    await waitFor(() => received.length === 3, { description: 'three consumed messages' });
    await consumer.disconnect();

    const keyA = received.filter((message) => message.key?.toString() === 'a').map((message) => message.value?.toString());
    expect(keyA).toEqual(['first', 'third']);

    const admin = kafka.admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    await admin.disconnect();
    // A partition without a commit reports offset -1.
    const committedTotal = committed.partitions
      .map((partition) => Number(partition.offset))
      .filter((offset) => offset >= 0)
      .reduce((sum, offset) => sum + offset, 0);
    expect(committedTotal).toBe(3);
  });
});
