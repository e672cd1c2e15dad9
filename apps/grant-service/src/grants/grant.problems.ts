import { GrantError, type GrantErrorCode } from '#grant-domain/grant-error.js';
import type { Problem, ProblemMapper } from '#platform/problem-details/problem.js';

import { ProjectionBehindError } from './projection-behind.error.js';

/** HTTP status and title of each grant error code. This is the only place where grant errors meet HTTP. */
const grantErrorStatus: Readonly<Record<GrantErrorCode, { status: number; title: string }>> = {
  'grant.invalid_user_id': { status: 400, title: 'Invalid user id' },
  'grant.invalid_client_id': { status: 400, title: 'Invalid client id' },
  'grant.invalid_scopes': { status: 400, title: 'Invalid scopes' },
  'grant.invalid_reason': { status: 400, title: 'Invalid revocation reason' },
  'grant.invalid_actor': { status: 400, title: 'Invalid actor' },
  'grant.not_found': { status: 404, title: 'Grant not found' },
  'grant.revoked': { status: 409, title: 'Grant revoked' },
  'grant.concurrency_conflict': { status: 409, title: 'Concurrent change' },
};

/** Maps the grant domain's errors and the projection's staleness to problem details. */
export const grantProblemMapper: ProblemMapper = (error: unknown): Problem | undefined => {
  if (error instanceof GrantError) {
    const { status, title } = grantErrorStatus[error.code];
    return { status, code: error.code, title, detail: asSentence(error.message), field: error.field };
  }
  if (error instanceof ProjectionBehindError) {
    return {
      status: 503,
      code: error.code,
      title: 'Projection behind',
      detail: asSentence(error.message),
      headers: { 'Retry-After': '1' },
    };
  }
  return undefined;
};

/**
 * Ends a domain message with a full stop. The first letter stays as it is, because messages
 * often start with a field name such as `user_id`.
 */
function asSentence(message: string): string {
  return /[.!?]$/.test(message) ? message : `${message}.`;
}
