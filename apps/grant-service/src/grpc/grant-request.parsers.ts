import { parseClientId, parseUserId } from '#grant-domain/grant-input.js';
import { parseRevokeReason, type RevokeReason } from '#grant-domain/revoke-reason.js';
import { ProblemError } from '#platform/problem-details/problem.js';

import type { GrantListFilter } from '../grants/grant-projection.reader.js';
import { invalidParameter } from '../grants/http/request-input.js';
import { decodeGrantListCursor } from '../grants/list-grants/grant-list-cursor.js';
import type { ActorMessage, ListGrantsRequest } from './grant.messages.js';

// Checks of the gRPC request fields that have no REST twin to reuse. proto3 cannot tell an unset
// string from an empty one, so an empty optional field counts as unset.

/** Largest PostgreSQL bigint, the type of event positions. */
const maxPosition = 2n ** 63n - 1n;

/** The same page size rules as the REST `limit` parameter. */
const defaultPageSize = 50;
const maxPageSize = 200;

/** Parses a uint64 `min_position`, where 0 means no wait. */
export function parseMinPosition(value: string, field = 'min_position'): bigint | undefined {
  const position = BigInt(value === '' ? '0' : value);
  if (position > maxPosition) {
    throw invalidParameter(field, `${field} must be an event position from 0 to ${maxPosition}, such as the position a command returned.`);
  }
  return position === 0n ? undefined : position;
}

/** Returns the actor message as the REST body's `actor` value: undefined when the request has none. */
export function actorValue(actor: ActorMessage | null): ActorMessage | undefined {
  return actor ?? undefined;
}

/** Parses the revoke reason, where empty means `admin` like an omitted REST reason. */
export function parseRevokeReasonField(reason: string): RevokeReason {
  return reason === '' ? 'admin' : parseRevokeReason(reason);
}

/** Builds the projection filter of a ListGrants request, with the REST list's rules. */
export function parseListFilter(request: ListGrantsRequest): GrantListFilter {
  if (request.user_id === '' && request.client_id === '') {
    throw invalidParameter('user_id', 'Set user_id, client_id or both to choose whose grants to list.');
  }
  return {
    userId: request.user_id === '' ? undefined : parseUserId(request.user_id),
    clientId: request.client_id === '' ? undefined : parseClientId(request.client_id),
    status: parseStatus(request.status),
    afterGrantId: request.page_token === '' ? undefined : parsePageToken(request.page_token),
    limit: parsePageSize(request.page_size),
  };
}

function parseStatus(value: string): 'active' | 'revoked' | undefined {
  if (value === '') return undefined;
  if (value !== 'active' && value !== 'revoked') {
    throw invalidParameter('status', 'status must be active, revoked, or empty for both.');
  }
  return value;
}

function parsePageSize(value: number): number {
  if (value === 0) return defaultPageSize;
  if (!Number.isInteger(value) || value < 1 || value > maxPageSize) {
    throw invalidParameter('page_size', `page_size must be a whole number from 1 to ${maxPageSize}, or 0 for ${defaultPageSize}.`);
  }
  return value;
}

/** Decodes the page token, which uses the REST cursor format, and names the gRPC field when it is invalid. */
function parsePageToken(token: string): string {
  try {
    return decodeGrantListCursor(token);
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error;
    throw invalidParameter('page_token', 'page_token must be the next_page_token of a previous page of this list.');
  }
}
