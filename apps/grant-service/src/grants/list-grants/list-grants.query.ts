import { Query } from '@nestjs/cqrs';

import type { GrantListFilter } from '../grant-projection.reader.js';
import type { GrantView } from '../grant-view.js';

export interface GrantListPage {
  items: GrantView[];
  /** Whether more grants follow the last item. */
  hasMore: boolean;
}

/** Lists grants of a user, of a client or of both from the projection, ordered by grant id. */
export class ListGrantsQuery extends Query<GrantListPage> {
  constructor(readonly filter: GrantListFilter) {
    super();
  }
}
