import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';

import { GrantProjectionReader } from '../grant-projection.reader.js';
import { type GrantListPage, ListGrantsQuery } from './list-grants.query.js';

@QueryHandler(ListGrantsQuery)
export class ListGrantsHandler implements IQueryHandler<ListGrantsQuery> {
  constructor(private readonly reader: GrantProjectionReader) {}

  async execute(query: ListGrantsQuery): Promise<GrantListPage> {
    // Reading one row beyond the page shows whether another page follows.
    const rows = await this.reader.listGrants({ ...query.filter, limit: query.filter.limit + 1 });
    return { items: rows.slice(0, query.filter.limit), hasMore: rows.length > query.filter.limit };
  }
}
