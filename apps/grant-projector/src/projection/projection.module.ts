import { Module } from '@nestjs/common';

/** Consumes grant-events and maintains the grants table. */
@Module({})
export class ProjectionModule {}
