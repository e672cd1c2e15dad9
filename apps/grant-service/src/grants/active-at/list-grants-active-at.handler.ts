import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';

import { grantViewFromStream } from '../grant-view.js';
import { GrantsActiveAtReader } from './grants-active-at.reader.js';
import { type GrantsActiveAtPage, ListGrantsActiveAtQuery } from './list-grants-active-at.query.js';

@QueryHandler(ListGrantsActiveAtQuery)
export class ListGrantsActiveAtHandler implements IQueryHandler<ListGrantsActiveAtQuery> {
  constructor(private readonly reader: GrantsActiveAtReader) {}

  async execute(query: ListGrantsActiveAtQuery): Promise<GrantsActiveAtPage> {
    // Reading one grant beyond the page shows whether another page follows.
    const grants = await this.reader.readPage({ ...query.filter, limit: query.filter.limit + 1 });

    const page = grants.slice(0, query.filter.limit);
    // Each stream is cut at the filter's time, so the fold gives the grant's state at that time.
    return { items: page.map((grant) => grantViewFromStream(grant.events)), hasMore: grants.length > query.filter.limit };
  }
}
