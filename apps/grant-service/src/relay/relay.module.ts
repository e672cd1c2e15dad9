import { Module } from '@nestjs/common';

/** Publishes committed grant events to Kafka. */
@Module({})
export class RelayModule {}
