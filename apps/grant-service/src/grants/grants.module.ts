import { Module } from '@nestjs/common';

/** Grant commands, queries and their REST API. */
@Module({})
export class GrantsModule {}
