import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { Admin } from 'kafkajs';

import { InjectKafka, type Kafka, KafkaConnections } from '#messaging/kafka.module.js';

/** Readiness of the Kafka cluster: the broker answers a metadata request within the timeout. */
@Injectable()
export class KafkaHealthIndicator {
  private admin: Admin | undefined;

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

  private async connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      this.admin = this.connections.track(this.kafka.admin({ retry: { retries: 0 } }));
      await this.admin.connect();
    }
    return this.admin;
  }

  private async resetAdmin(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect().catch(() => undefined);
  }
}
