import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { GrantEventStore } from '#persistence/grant-event-store.js';

import { GrantEventRelay } from './grant-event-relay.js';

/** Publishes committed grant events to Kafka. */
@Module({
  providers: [
    { provide: GrantEventStore, useFactory: (dataSource: DataSource) => new GrantEventStore(dataSource), inject: [DataSource] },
    GrantEventRelay,
  ],
  exports: [GrantEventRelay],
})
export class RelayModule {}
