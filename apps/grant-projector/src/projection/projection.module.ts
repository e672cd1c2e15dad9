import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { GrantEventStore } from '#persistence/grant-event-store.js';

import { GrantEventsConsumer } from './grant-events.consumer.js';
import { ProjectionWriter } from './projection-writer.js';

/**
 * Consumes grant-events and maintains the grants table. Global, so that the projection readiness
 * check, which the health module creates, can read the consumer's state.
 */
@Global()
@Module({
  providers: [
    { provide: GrantEventStore, useFactory: (dataSource: DataSource) => new GrantEventStore(dataSource), inject: [DataSource] },
    ProjectionWriter,
    GrantEventsConsumer,
  ],
  exports: [GrantEventStore, ProjectionWriter, GrantEventsConsumer],
})
export class ProjectionModule {}
