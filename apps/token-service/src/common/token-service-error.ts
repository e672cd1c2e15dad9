/**
 * Stable codes of every rule the token service enforces. The REST edge maps them to problem
 * details and the OAuth edge to RFC 6749 §5.2 errors, each in one place.
 */
export type TokenServiceErrorCode =
  | 'request.invalid_body'
  | 'auth.invalid_token'
  | 'auth.insufficient_scope'
  | 'client.invalid_input'
  | 'client.not_found'
  | 'client.already_exists'
  | 'client.bootstrap_protected'
  | 'client.authentication_failed'
  | 'client.not_confidential'
  | 'client.scope_not_allowed'
  | 'key.not_found'
  | 'key.in_use'
  | 'token.malformed'
  | 'token.invalid_signature'
  | 'token.wrong_type'
  | 'token.wrong_issuer'
  | 'token.wrong_audience'
  | 'token.expired'
  | 'token.revoked'
  | 'token.client_mismatch'
  | 'token.client_not_registered'
  | 'token.grant_not_found'
  | 'token.grant_revoked'
  | 'token.grant_mismatch'
  | 'token.offline_access_missing'
  | 'token.idle_timeout_exceeded'
  | 'token.max_lifetime_exceeded'
  | 'token.scope_not_granted'
  | 'token.projection_behind'
  | 'token.projection_stale'
  | 'token.grant_revocation_failed';

/** A request that a token-service rule rejects, with a stable code and the field at fault, if one is. */
export class TokenServiceError extends Error {
  override readonly name = 'TokenServiceError';

  constructor(
    readonly code: TokenServiceErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
