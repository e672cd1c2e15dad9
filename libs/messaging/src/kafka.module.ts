import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';

import { createKafkaClient, type KafkaClientOptions } from './kafka-client.js';

/** Injection token of the app's kafkajs client. */
export const KAFKA_CLIENT = Symbol('KAFKA_CLIENT');

/** Disconnects producers, consumers and admins registered with it when the app stops. */
@Injectable()
export class KafkaConnections implements OnApplicationShutdown {
  private readonly connections = new Set<{ disconnect(): Promise<void> }>();

  track<Connection extends { disconnect(): Promise<void> }>(connection: Connection): Connection {
    this.connections.add(connection);
    return connection;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.connections].map((connection) => connection.disconnect()));
    this.connections.clear();
  }
}

@Global()
@Module({})
export class KafkaModule {
  static forRoot(options: KafkaClientOptions): DynamicModule {
    return {
      module: KafkaModule,
      providers: [{ provide: KAFKA_CLIENT, useFactory: () => createKafkaClient(options) }, KafkaConnections],
      exports: [KAFKA_CLIENT, KafkaConnections],
    };
  }
}

export const InjectKafka = () => Inject(KAFKA_CLIENT);
export type { Kafka };
