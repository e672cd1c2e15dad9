import { status } from '@grpc/grpc-js';

/**
 * The gRPC status of every stable error code that a gRPC call can end with. This is the only
 * place where error codes meet gRPC status codes.
 *
 * The choices follow the litmus test that comes with the gRPC status codes (google.rpc.Code):
 * - INVALID_ARGUMENT: the request is wrong whatever the server's state, including a token that
 *   can never verify (malformed, forged, of another type or issuer).
 * - FAILED_PRECONDITION: the request is well-formed but the state forbids it and a plain retry
 *   will not help, such as a revoked grant or a grant past its lifetime. OAuth's invalid_grant
 *   maps here, because the refresh token itself may be fine while its grant is not.
 * - ABORTED: a concurrent change won, so a retry of the whole call may succeed.
 * - UNAVAILABLE: the server cannot respond right now, for example because the projection lags
 *   behind, so the same call may succeed a moment later.
 */
export const grpcStatusByCode = {
  // The grant domain's rules.
  'grant.invalid_user_id': status.INVALID_ARGUMENT,
  'grant.invalid_client_id': status.INVALID_ARGUMENT,
  'grant.invalid_scopes': status.INVALID_ARGUMENT,
  'grant.invalid_reason': status.INVALID_ARGUMENT,
  'grant.invalid_actor': status.INVALID_ARGUMENT,
  'grant.not_found': status.NOT_FOUND,
  'grant.revoked': status.FAILED_PRECONDITION,
  'grant.concurrency_conflict': status.ABORTED,
  'projection.behind': status.UNAVAILABLE,

  // Request shape, shared by both services.
  'request.invalid_parameter': status.INVALID_ARGUMENT,
  'request.invalid_body': status.INVALID_ARGUMENT,
  'request.invalid_idempotency_key': status.INVALID_ARGUMENT,
  'request.invalid_metadata': status.INVALID_ARGUMENT,
  'request.malformed_message': status.INVALID_ARGUMENT,
  'request.cancelled': status.CANCELLED,
  'idempotency.key_reused': status.FAILED_PRECONDITION,
  'idempotency.request_in_progress': status.ABORTED,

  // Bearer access tokens of the callers.
  'auth.invalid_token': status.UNAUTHENTICATED,
  'auth.insufficient_scope': status.PERMISSION_DENIED,
  'auth.jwks_unavailable': status.UNAVAILABLE,

  // The token service's clients and keys.
  'client.invalid_input': status.INVALID_ARGUMENT,
  'client.not_found': status.NOT_FOUND,
  'client.already_exists': status.ALREADY_EXISTS,
  'client.bootstrap_protected': status.FAILED_PRECONDITION,
  'client.authentication_failed': status.UNAUTHENTICATED,
  'client.not_confidential': status.FAILED_PRECONDITION,
  'client.scope_not_allowed': status.PERMISSION_DENIED,
  'key.not_found': status.NOT_FOUND,
  'key.in_use': status.FAILED_PRECONDITION,

  // Offline refresh tokens and access tokens presented to the token service.
  'token.malformed': status.INVALID_ARGUMENT,
  'token.invalid_signature': status.INVALID_ARGUMENT,
  'token.wrong_type': status.INVALID_ARGUMENT,
  'token.wrong_issuer': status.INVALID_ARGUMENT,
  'token.wrong_audience': status.INVALID_ARGUMENT,
  'token.expired': status.FAILED_PRECONDITION,
  'token.revoked': status.FAILED_PRECONDITION,
  'token.client_mismatch': status.PERMISSION_DENIED,
  'token.client_not_registered': status.FAILED_PRECONDITION,
  'token.grant_not_found': status.NOT_FOUND,
  'token.grant_revoked': status.FAILED_PRECONDITION,
  'token.grant_mismatch': status.FAILED_PRECONDITION,
  'token.offline_access_missing': status.FAILED_PRECONDITION,
  'token.idle_timeout_exceeded': status.FAILED_PRECONDITION,
  'token.max_lifetime_exceeded': status.FAILED_PRECONDITION,
  'token.scope_not_granted': status.PERMISSION_DENIED,
  'token.projection_behind': status.UNAVAILABLE,
  'token.projection_stale': status.UNAVAILABLE,
  'token.grant_revocation_failed': status.UNAVAILABLE,

  // OAuth errors (RFC 6749 §5.2, RFC 7009 §2.2.1) raised without a more specific code.
  'oauth.invalid_request': status.INVALID_ARGUMENT,
  'oauth.invalid_client': status.UNAUTHENTICATED,
  'oauth.invalid_grant': status.FAILED_PRECONDITION,
  'oauth.unauthorized_client': status.PERMISSION_DENIED,
  'oauth.unsupported_grant_type': status.INVALID_ARGUMENT,
  'oauth.invalid_scope': status.INVALID_ARGUMENT,
  'oauth.unsupported_token_type': status.INVALID_ARGUMENT,
  'oauth.temporarily_unavailable': status.UNAVAILABLE,
  'oauth.server_error': status.INTERNAL,

  // An unexpected failure; the client sees no detail.
  internal_error: status.INTERNAL,
} as const satisfies Record<string, status>;

export type MappedErrorCode = keyof typeof grpcStatusByCode;

/**
 * Returns the gRPC status for a stable error code. A code missing from the table is a bug: a
 * `request.*` code still counts as INVALID_ARGUMENT, and any other as INTERNAL.
 */
export function grpcStatusForCode(code: string): status {
  if (Object.hasOwn(grpcStatusByCode, code)) return grpcStatusByCode[code as MappedErrorCode];
  return code.startsWith('request.') ? status.INVALID_ARGUMENT : status.INTERNAL;
}
