import { GrantError } from '#grant-domain/grant-error.js';
import { parseClientId, parseUserId } from '#grant-domain/grant-input.js';
import { parseRevokeReason, type RevokeReason } from '#grant-domain/revoke-reason.js';
import { parseScopes } from '#grant-domain/scope-set.js';
import { ProblemError } from '#platform/problem-details/problem.js';

import type { RevocationFilter } from './revocation-filter.js';

/** Reasons a bulk revocation may record. */
export const bulkRevokeReasons = ['user_removed', 'client_removed', 'admin'] as const satisfies readonly RevokeReason[];
export type BulkRevokeReason = (typeof bulkRevokeReasons)[number];

/** A parsed `POST /v1/admin/revocations` body. */
export interface RevocationRequest {
  filter: RevocationFilter;
  reason: BulkRevokeReason;
  dryRun: boolean;
}

export const revocationRequestFields = ['user_id', 'client_id', 'scope', 'created_before', 'reason', 'dry_run'] as const;

/** RFC 3339 date-time with a time zone, such as 2026-01-31T00:00:00Z. */
const dateTimePattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

function invalidField(field: string, detail: string): ProblemError {
  return new ProblemError({ status: 400, code: 'request.invalid_field', title: 'Invalid field', detail, field });
}

/** Validates the body's fields; the caller has already rejected unknown fields. */
export function parseRevocationRequest(body: Record<string, unknown>): RevocationRequest {
  const hasUser = body.user_id !== undefined;
  const hasClient = body.client_id !== undefined;
  if (hasUser === hasClient) {
    throw new ProblemError({
      status: 400,
      code: 'revocation.invalid_filter',
      title: 'Invalid revocation filter',
      detail: hasUser
        ? 'The body sets both user_id and client_id, so send exactly one of them and start one job per user or client.'
        : 'The body sets neither user_id nor client_id, so send exactly one of them to choose whose grants to revoke.',
      field: hasUser ? 'client_id' : 'user_id',
    });
  }

  const filter: RevocationFilter = hasUser ? { userId: parseUserId(body.user_id) } : { clientId: parseClientId(body.client_id) };
  if (body.scope !== undefined) filter.scope = parseScope(body.scope);
  if (body.created_before !== undefined) filter.createdBefore = parseCreatedBefore(body.created_before);

  return { filter, reason: parseBulkReason(body.reason), dryRun: parseDryRun(body.dry_run) };
}

function parseScope(value: unknown): string {
  try {
    return parseScopes([value], 'scope')[0];
  } catch (error) {
    if (!(error instanceof GrantError)) throw error;
    throw new GrantError('grant.invalid_scopes', 'scope must be one RFC 6749 scope-token, such as offline_access', 'scope');
  }
}

function parseCreatedBefore(value: unknown): Date {
  if (typeof value !== 'string' || !dateTimePattern.test(value) || Number.isNaN(Date.parse(value))) {
    throw invalidField('created_before', 'created_before must be an RFC 3339 date-time with a time zone, such as 2026-01-31T00:00:00Z.');
  }
  return new Date(value);
}

function parseBulkReason(value: unknown): BulkRevokeReason {
  if (value === undefined) {
    throw invalidField('reason', `reason is missing, so set it to one of ${bulkRevokeReasons.join(', ')}.`);
  }
  const reason = parseRevokeReason(value);
  if (!(bulkRevokeReasons as readonly string[]).includes(reason)) {
    throw new GrantError('grant.invalid_reason', `reason of a bulk revocation must be one of ${bulkRevokeReasons.join(', ')}`, 'reason');
  }
  return reason as BulkRevokeReason;
}

function parseDryRun(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalidField('dry_run', 'dry_run must be true or false.');
  return value;
}
