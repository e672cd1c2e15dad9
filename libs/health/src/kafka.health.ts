import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { Admin } from 'kafkajs';

import { InjectKafka, type Kafka, KafkaConnections } from '#messaging/kafka.module.js';

/** Readiness of the Kafka cluster: the broker responds to a metadata request within the timeout. */
@Injectable()
export class KafkaHealthIndicator {
  /** The connected admin client, shared by concurrent checks (HTTP readiness and gRPC health). */
  private admin: Promise<Admin> | undefined;

  constructor(
    @InjectKafka() private readonly kafka: Kafka,
    private readonly connections: KafkaConnections,
    private readonly health: HealthIndicatorService,
  ) {}

  check(timeoutMs: number) {
    return this.health
      .check('kafka')
      .attempt(async () => {
        try {
          const admin = await this.connectedAdmin();
          const cluster = await admin.describeCluster();
          return { brokers: cluster.brokers.length };
        } catch (error) {
          // Start over with a fresh connection next time; kafkajs does not recover a half-open admin.
          await this.resetAdmin();
          throw error;
        }
      })
      .withTimeout(timeoutMs);
  }

  private connectedAdmin(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.connections.track(this.kafka.admin({ retry: { retries: 0 } }));
      await admin.connect();
      return admin;
    })();
    return this.admin;
  }

  private async resetAdmin(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.then((connected) => connected.disconnect()).catch(() => undefined);
  }
}
