import type { Kafka } from 'kafkajs';

export interface TopicSettings {
  topic: string;
  partitions: number;
}

/**
 * Creates `topic` with infinite retention (`retention.ms=-1`) and the broker's default replication
 * factor when it is missing. Returns false when it already existed, in which case its partitions
 * and settings are left as they are. Two apps racing to create it both succeed.
 */
export async function ensureTopic(kafka: Kafka, settings: TopicSettings): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: settings.topic,
          numPartitions: settings.partitions,
          configEntries: [{ name: 'retention.ms', value: '-1' }],
        },
      ],
    });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
