import { Query } from '@nestjs/cqrs';

import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';

/** Reads every event of a grant from the event store, oldest first. */
export class GetGrantHistoryQuery extends Query<RecordedGrantEvent[]> {
  constructor(readonly grantId: string) {
    super();
  }
}
