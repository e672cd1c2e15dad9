import type { IHeaders } from 'kafkajs';
import type { DataSource } from 'typeorm';

import { loadGrantProjectorConfig } from '../../apps/grant-projector/src/config/grant-projector.config.js';
import { GrantProjectorModule } from '../../apps/grant-projector/src/grant-projector.module.js';
import { encodeGrantEvent } from '#grant-events/grant-event-codec.js';
import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';
import type { StartedHttpApp } from '#platform/start-http-app.js';
import { startTestApp, testEnvironment } from '#testing/test-apps.js';
import { uniqueName } from '#testing/test-kafka.js';

import { kafkaClient } from '../relay/topic-reader.js';

/** Topic, dead-letter topic and group names that no other test uses. */
export function projectorNames(label: string) {
  return { topic: uniqueName(label), deadLetterTopic: uniqueName(`${label}-dlq`), groupId: uniqueName(`${label}-group`) };
}

export function startProjector(
  databaseUrl: string,
  names: ReturnType<typeof projectorNames>,
  extra: Record<string, string> = {},
): Promise<StartedHttpApp> {
  const environment = testEnvironment(databaseUrl, {
    GRANT_EVENTS_TOPIC: names.topic,
    GRANT_EVENTS_DLQ_TOPIC: names.deadLetterTopic,
    GRANT_PROJECTOR_GROUP_ID: names.groupId,
    ...extra,
  });
  return startTestApp('grant-projector', GrantProjectorModule.forRoot(loadGrantProjectorConfig(environment)));
}

export interface RawMessage {
  key: string;
  value: string;
  headers: IHeaders;
}

/**
 * Produces `messages` in order, each as encodeGrantEvent makes it or as given raw; to `partition`
 * when given, else to the partition of each key.
 */
export async function produce(
  topic: string,
  messages: ReadonlyArray<RecordedGrantEvent | RawMessage>,
  options: { partition?: number; brokers?: string[] } = {},
): Promise<void> {
  const producer = kafkaClient(options.brokers).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: messages.map((message) => ({
        ...('eventId' in message ? encodeGrantEvent(message) : message),
        partition: options.partition,
      })),
    });
  } finally {
    await producer.disconnect();
  }
}

export interface StoredGrantRow {
  grant_id: string;
  user_id: string;
  client_id: string;
  scopes: string[];
  status: string;
  created_at: Date;
  updated_at: Date;
  revoked_at: Date | null;
  revoke_reason: string | null;
  version: number;
  position: string;
}

export async function grantRow(dataSource: DataSource, grantId: string): Promise<StoredGrantRow | undefined> {
  const rows: StoredGrantRow[] = await dataSource.query(
    'SELECT grant_id, user_id, client_id, scopes, status, created_at, updated_at, revoked_at, revoke_reason, version, position::text AS position FROM grants WHERE grant_id = $1',
    [grantId],
  );
  return rows[0];
}

/** Waits for the row of `grantId` to reach `version`, and returns it. */
export function rowAtVersion(dataSource: DataSource, grantId: string, version: number) {
  return async () => {
    const row = await grantRow(dataSource, grantId);
    return row !== undefined && row.version >= version ? row : undefined;
  };
}

/** Returns whether `groupId` committed the latest offset of every partition of `topic`. */
export async function committedToEnd(topic: string, groupId: string, brokers?: string[]): Promise<boolean> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    const latest = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return latest.every((partition) => {
      const offset = committed.partitions.find((entry) => entry.partition === partition.partition)?.offset ?? '-1';
      return partition.high === '0' || offset === partition.high;
    });
  } finally {
    await admin.disconnect();
  }
}

/** Counts the messages in `topic`, partition by partition from the earliest to the latest offset. */
export async function messageCount(topic: string): Promise<number> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, partition) => sum + Number(partition.high) - Number(partition.low), 0);
  } finally {
    await admin.disconnect();
  }
}
