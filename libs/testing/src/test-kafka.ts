import { randomBytes } from 'node:crypto';

import { createKafkaClient } from '#messaging/kafka-client.js';

/** Brokers the tests use; global setup sets KAFKA_BROKERS when it starts the local broker. */
export function testKafkaBrokers(): string[] {
  return (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
}

/** Returns a topic or consumer-group name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export function testKafkaClient(clientId = uniqueName('test')) {
  return createKafkaClient({ clientId, brokers: testKafkaBrokers() });
}

/** Creates a topic and waits until its partitions have leaders. */
export async function createTestTopic(topic: string, numPartitions = 3): Promise<void> {
  const admin = testKafkaClient().admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}
