import { Controller, Delete, Get, Patch, Post, Put, Query, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';

import { parseClientId, parseUserId } from '#grant-domain/grant-input.js';
import { ProblemError } from '#platform/problem-details/problem.js';

import { RequiredScope } from '../auth/grant-api-caller.js';
import { GrantApiGuard } from '../auth/grant-api.guard.js';
import { type GrantJson, toGrantJson } from '../http/grant.json.js';
import { invalidParameter, rejectUnknownParameters } from '../http/request-input.js';
import { decodeGrantListCursor, encodeGrantListCursor } from '../list-grants/grant-list-cursor.js';
import { ListGrantsActiveAtQuery } from './list-grants-active-at.query.js';
import { formatRfc3339Instant, parseRfc3339Instant } from './rfc3339-instant.js';

const defaultLimit = 50;
const maxLimit = 200;

/** Body of `GET /v1/grants/active-at`. */
export interface GrantsActiveAtJson {
  /** The requested instant in UTC. */
  time: string;
  items: GrantJson[];
  next_cursor: string | null;
}

/**
 * `GET /v1/grants/active-at?time=&user_id=&client_id=&limit=&cursor=` lists the grants of a user, of
 * a client or of both that were active at `time`: created at or before it and not revoked at or
 * before it. Each item shows the grant as of `time` (its scopes after the scope changes up to then,
 * and the version and position of its last event up to then). The route reads the event store, so
 * it never lags behind the projection. Items are ordered by grant id with keyset paging through
 * `next_cursor`, like the list. A `time` in the future gets the grants as the events recorded so far
 * show them.
 */
@Controller('v1/grants/active-at')
export class ListGrantsActiveAtHttpController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get()
  @UseGuards(GrantApiGuard)
  @RequiredScope('grants:read')
  async listGrantsActiveAt(@Query() query: Record<string, unknown>): Promise<GrantsActiveAtJson> {
    rejectUnknownParameters(query, ['time', 'user_id', 'client_id', 'limit', 'cursor']);
    const time = parseTime(query.time);
    if (query.user_id === undefined && query.client_id === undefined) {
      throw invalidParameter('user_id', 'Set user_id, client_id or both to choose whose grants to list.');
    }
    const filter = {
      time,
      userId: query.user_id === undefined ? undefined : parseUserId(query.user_id),
      clientId: query.client_id === undefined ? undefined : parseClientId(query.client_id),
      afterGrantId: query.cursor === undefined ? undefined : decodeGrantListCursor(query.cursor),
      limit: query.limit === undefined ? defaultLimit : parseLimit(query.limit),
    };

    const page = await this.queryBus.execute(new ListGrantsActiveAtQuery(filter));

    const last = page.items.at(-1);
    return {
      time,
      items: page.items.map(toGrantJson),
      next_cursor: page.hasMore && last !== undefined ? encodeGrantListCursor(last.grantId) : null,
    };
  }

  // Without these, Fastify would route other methods to the /v1/grants/{grant_id} stand-ins, whose
  // Allow header names the methods of a grant.
  @Post()
  postActiveAt(): never {
    throw onlyGetAllowed('POST');
  }

  @Put()
  putActiveAt(): never {
    throw onlyGetAllowed('PUT');
  }

  @Patch()
  patchActiveAt(): never {
    throw onlyGetAllowed('PATCH');
  }

  @Delete()
  deleteActiveAt(): never {
    throw onlyGetAllowed('DELETE');
  }
}

/** Parses `time` and returns it in UTC, in the form PostgreSQL and the response use. */
function parseTime(value: unknown): string {
  if (value === undefined) {
    throw invalidParameter('time', 'time is missing, so set it to an RFC 3339 date-time such as 2025-03-01T12:00:00Z.');
  }
  const instant = typeof value === 'string' ? parseRfc3339Instant(value) : undefined;
  if (instant === undefined) {
    // In a query string an unencoded + reads as a space, which turns a valid offset into an invalid time.
    const plusHint = typeof value === 'string' && / \d{2}:\d{2}$/.test(value) ? ' Encode the + of an offset as %2B.' : '';
    throw invalidParameter(
      'time',
      `time must be an RFC 3339 date-time in the years 0001 to 9999, such as 2025-03-01T12:00:00Z or 2025-03-01T13:00:00.250+01:00.${plusHint}`,
    );
  }
  return formatRfc3339Instant(instant);
}

function parseLimit(value: unknown): number {
  if (typeof value !== 'string' || !/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > maxLimit) {
    throw invalidParameter('limit', `limit must be a whole number from 1 to ${maxLimit}.`);
  }
  return Number(value);
}

function onlyGetAllowed(method: string): ProblemError {
  return new ProblemError({
    status: 405,
    code: 'request.method_not_allowed',
    title: 'Method not allowed',
    detail: `${method} is not allowed on /v1/grants/active-at, so use GET.`,
    headers: { Allow: 'GET' },
  });
}
