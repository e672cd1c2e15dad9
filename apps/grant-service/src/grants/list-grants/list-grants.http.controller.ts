import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';

import { parseClientId, parseUserId } from '#grant-domain/grant-input.js';

import { RequiredScope } from '../auth/grant-api-caller.js';
import { GrantApiGuard } from '../auth/grant-api.guard.js';
import { type GrantJson, toGrantJson } from '../http/grant.json.js';
import { invalidParameter, rejectUnknownParameters } from '../http/request-input.js';
import { decodeGrantListCursor, encodeGrantListCursor } from './grant-list-cursor.js';
import { ListGrantsQuery } from './list-grants.query.js';

const defaultLimit = 50;
const maxLimit = 200;

@Controller('v1/grants')
@UseGuards(GrantApiGuard)
export class ListGrantsHttpController {
  constructor(private readonly queryBus: QueryBus) {}

  /**
   * `GET /v1/grants?user_id=&client_id=&status=&limit=&cursor=` lists grants of a user, of a
   * client or of both, ordered by grant id, with keyset paging through `next_cursor`.
   */
  @Get()
  @RequiredScope('grants:read')
  async listGrants(@Query() query: Record<string, unknown>): Promise<{ items: GrantJson[]; next_cursor: string | null }> {
    rejectUnknownParameters(query, ['user_id', 'client_id', 'status', 'limit', 'cursor']);
    if (query.user_id === undefined && query.client_id === undefined) {
      throw invalidParameter('user_id', 'Set user_id, client_id or both to choose whose grants to list.');
    }
    const filter = {
      userId: query.user_id === undefined ? undefined : parseUserId(query.user_id),
      clientId: query.client_id === undefined ? undefined : parseClientId(query.client_id),
      status: query.status === undefined ? undefined : parseStatus(query.status),
      afterGrantId: query.cursor === undefined ? undefined : decodeGrantListCursor(query.cursor),
      limit: query.limit === undefined ? defaultLimit : parseLimit(query.limit),
    };

    const page = await this.queryBus.execute(new ListGrantsQuery(filter));

    const last = page.items.at(-1);
    return {
      items: page.items.map(toGrantJson),
      next_cursor: page.hasMore && last !== undefined ? encodeGrantListCursor(last.grantId) : null,
    };
  }
}

function parseStatus(value: unknown): 'active' | 'revoked' {
  if (value !== 'active' && value !== 'revoked') {
    throw invalidParameter('status', 'status must be active or revoked.');
  }
  return value;
}

function parseLimit(value: unknown): number {
  if (typeof value !== 'string' || !/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > maxLimit) {
    throw invalidParameter('limit', `limit must be a whole number from 1 to ${maxLimit}.`);
  }
  return Number(value);
}
