import { Query } from '@nestjs/cqrs';

import type { GrantView } from '../grant-view.js';
import type { GrantsActiveAtFilter } from './grants-active-at.reader.js';

export interface GrantsActiveAtPage {
  /** Each grant as it was at the filter's time. */
  items: GrantView[];
  /** Whether more grants follow the last item. */
  hasMore: boolean;
}

/** Lists the grants of a user, of a client or of both that were active at an instant, from the event store. */
export class ListGrantsActiveAtQuery extends Query<GrantsActiveAtPage> {
  constructor(readonly filter: GrantsActiveAtFilter) {
    super();
  }
}
