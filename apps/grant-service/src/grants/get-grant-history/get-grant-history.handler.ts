import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';

import { GrantError } from '#grant-domain/grant-error.js';
import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';
import { GrantEventStore } from '#persistence/grant-event-store.js';

import { GetGrantHistoryQuery } from './get-grant-history.query.js';

@QueryHandler(GetGrantHistoryQuery)
export class GetGrantHistoryHandler implements IQueryHandler<GetGrantHistoryQuery> {
  constructor(private readonly store: GrantEventStore) {}

  async execute(query: GetGrantHistoryQuery): Promise<RecordedGrantEvent[]> {
    const { events } = await this.store.readStream(query.grantId);
    if (events.length === 0) {
      throw new GrantError('grant.not_found', `grant ${query.grantId} was not found`, 'grant_id');
    }
    return events;
  }
}
