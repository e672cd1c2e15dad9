import type { Problem, ProblemMapper } from '#platform/problem-details/problem.js';

import { type TokenServiceErrorCode, TokenServiceError } from './token-service-error.js';

/** HTTP status and title of each code on the REST API; codes not listed are 400 "Invalid token". */
const problemTypes: Partial<Record<TokenServiceErrorCode, { status: number; title: string }>> = {
  'request.invalid_body': { status: 400, title: 'Invalid request body' },
  'auth.invalid_token': { status: 401, title: 'Invalid access token' },
  'auth.insufficient_scope': { status: 403, title: 'Insufficient scope' },
  'client.invalid_input': { status: 400, title: 'Invalid client registration' },
  'client.not_found': { status: 404, title: 'Client not found' },
  'client.already_exists': { status: 409, title: 'Client already exists' },
  'client.bootstrap_protected': { status: 409, title: 'Bootstrap client is protected' },
  'client.not_confidential': { status: 409, title: 'Client is not confidential' },
  'key.not_found': { status: 404, title: 'Signing key not found' },
  'key.in_use': { status: 409, title: 'Signing key in use' },
  'token.grant_not_found': { status: 404, title: 'Grant not found' },
  'token.grant_revoked': { status: 409, title: 'Grant revoked' },
  'token.offline_access_missing': { status: 409, title: 'Grant lacks offline_access' },
  'token.client_not_registered': { status: 409, title: 'Client not registered' },
  'token.max_lifetime_exceeded': { status: 409, title: 'Grant lifetime ended' },
  'token.projection_behind': { status: 503, title: 'Projection behind' },
  'token.projection_stale': { status: 503, title: 'Projection stale' },
  'token.grant_revocation_failed': { status: 503, title: 'Grant revocation failed' },
};

function headersFor(code: TokenServiceErrorCode): Record<string, string> | undefined {
  if (code === 'auth.invalid_token') return { 'WWW-Authenticate': 'Bearer error="invalid_token"' };
  if (code === 'auth.insufficient_scope') return { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' };
  // The projection usually catches up within a second.
  if (code === 'token.projection_behind' || code === 'token.projection_stale' || code === 'token.grant_revocation_failed') {
    return { 'Retry-After': '1' };
  }
  return undefined;
}

/** Translates TokenServiceError into RFC 9457 problems for the token service's REST API. */
export const tokenServiceProblemMapper: ProblemMapper = (error: unknown): Problem | undefined => {
  if (!(error instanceof TokenServiceError)) return undefined;
  const type = problemTypes[error.code] ?? { status: 400, title: 'Invalid token' };
  return {
    status: type.status,
    code: error.code,
    title: type.title,
    detail: `${error.message.charAt(0).toUpperCase()}${error.message.slice(1)}.`,
    field: error.field,
    headers: headersFor(error.code),
  };
};
