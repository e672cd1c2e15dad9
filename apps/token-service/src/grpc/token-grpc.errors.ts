import type { GrpcErrorDescription } from '#grpc/grpc-call-error.js';
import type { MappedErrorCode } from '#grpc/grpc-status-codes.js';
import { type Problem, ProblemError } from '#platform/problem-details/problem.js';

import { TokenServiceError, type TokenServiceErrorCode } from '../common/token-service-error.js';
import { tokenServiceProblemMapper } from '../common/token-service-problems.js';
import { OAuthError, type OAuthErrorCode } from '../oauth/oauth-error.js';
import { oauthErrorFor } from '../oauth/oauth-error-mapping.js';

/** Codes of the token service that the gRPC status table lacks; a new code fails the type check here until it is mapped. */
type UnmappedCodes = Exclude<TokenServiceErrorCode | `oauth.${OAuthErrorCode}`, MappedErrorCode>;
const _everyCodeMapped: [UnmappedCodes] extends [never] ? true : UnmappedCodes = true;

/**
 * Translates the token service's errors for the gRPC edge. The code, message and field come from
 * the problem the REST API sends. For the OAuth calls (Refresh, Introspect, Revoke),
 * `ErrorInfo.metadata["oauth_error"]` also names the RFC 6749 §5.2 error that /oauth/* would
 * send, from the same mapping, and an OAuthError without a more specific code gets `oauth.<error>`.
 */
export function translateTokenServiceError(error: unknown, edge: 'rest' | 'oauth'): GrpcErrorDescription | undefined {
  const oauthError = edge === 'oauth' ? oauthErrorFor(error) : undefined;
  const details = oauthError === undefined ? undefined : { oauth_error: oauthError.error };

  if (error instanceof OAuthError) {
    return { code: `oauth.${error.error}`, message: asSentence(error.description), details };
  }
  let problem: Problem | undefined;
  if (error instanceof ProblemError) problem = error.problem;
  else if (error instanceof TokenServiceError) problem = tokenServiceProblemMapper(error);
  if (problem === undefined) return undefined;
  return { code: problem.code, message: problem.detail ?? problem.title, field: metadataField(problem.field), details };
}

/** Converts the REST edge's field name `Authorization` to the metadata key, because gRPC metadata keys are lower case. */
function metadataField(field: string | undefined): string | undefined {
  return field === 'Authorization' ? 'authorization' : field;
}

/** Turns an OAuth description, a lower-case clause, into a sentence like the problem details' `detail`. */
function asSentence(text: string): string {
  const capitalized = `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
  return /[.!?]$/.test(capitalized) ? capitalized : `${capitalized}.`;
}
