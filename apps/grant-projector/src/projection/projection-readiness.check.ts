import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { Admin } from 'kafkajs';

import type { ReadinessCheck } from '#health/readiness-check.js';
import { InjectKafka, type Kafka, KafkaConnections } from '#messaging/kafka.module.js';

import { GRANT_PROJECTOR_CONFIG, type GrantProjectorConfig } from '../config/grant-projector.config.js';
import { GrantEventsConsumer } from './grant-events.consumer.js';

/** Consumer lag of one partition: messages after the group's committed offset. */
export interface PartitionLag {
  partition: number;
  lagMessages: number;
}

/**
 * Readiness of the projection: the consumer is starting or running. While it runs, its lag in
 * messages, the latest offsets minus the group's committed ones, is reported beside that state. The
 * lag does not fail the check, because a projector catching up is working as intended.
 */
@Injectable()
export class ProjectionReadinessCheck implements ReadinessCheck {
  private admin: Admin | undefined;

  constructor(
    @Inject(GRANT_PROJECTOR_CONFIG) private readonly config: GrantProjectorConfig,
    @InjectKafka() private readonly kafka: Kafka,
    private readonly connections: KafkaConnections,
    private readonly consumer: GrantEventsConsumer,
    private readonly health: HealthIndicatorService,
  ) {}

  check(timeoutMs: number) {
    return this.health
      .check('projection')
      .attempt(async () => {
        const state = this.consumer.state;
        if (state === 'starting') return { consumer: state };
        if (state !== 'running') throw new Error(`the grant-events consumer is ${state}, not running`);

        const partitions = await this.lag();
        return { consumer: state, lagMessages: partitions.reduce((sum, entry) => sum + entry.lagMessages, 0), partitions };
      })
      .withTimeout(timeoutMs);
  }

  /** Lag by partition; a partition without a committed offset counts from its earliest message. */
  async lag(): Promise<PartitionLag[]> {
    try {
      const admin = await this.connectedAdmin();
      const topic = this.config.GRANT_EVENTS_TOPIC;
      const [latest, [committed]] = await Promise.all([
        admin.fetchTopicOffsets(topic),
        admin.fetchOffsets({ groupId: this.config.GRANT_PROJECTOR_GROUP_ID, topics: [topic] }),
      ]);
      const committedByPartition = new Map(committed.partitions.map((entry) => [entry.partition, BigInt(entry.offset)]));
      return latest.map((entry) => {
        const committedOffset = committedByPartition.get(entry.partition) ?? -1n;
        const from = committedOffset >= 0n ? committedOffset : BigInt(entry.low);
        return { partition: entry.partition, lagMessages: Number(BigInt(entry.high) - from) };
      });
    } catch (error) {
      // Start over with a fresh connection next time; kafkajs does not recover a half-open admin.
      const admin = this.admin;
      this.admin = undefined;
      await admin?.disconnect().catch(() => undefined);
      throw error;
    }
  }

  private async connectedAdmin(): Promise<Admin> {
    if (this.admin === undefined) {
      this.admin = this.connections.track(this.kafka.admin({ retry: { retries: 0 } }));
      await this.admin.connect();
    }
    return this.admin;
  }
}
