/** Stable codes of every rule the grant domain enforces; transports map them to their statuses. */
export type GrantErrorCode =
  | 'grant.invalid_user_id'
  | 'grant.invalid_client_id'
  | 'grant.invalid_scopes'
  | 'grant.invalid_reason'
  | 'grant.invalid_actor'
  | 'grant.not_found'
  | 'grant.revoked'
  | 'grant.concurrency_conflict';

/** A command that the grant rules reject, with a stable code and the offending field. */
export class GrantError extends Error {
  override readonly name = 'GrantError';

  constructor(
    readonly code: GrantErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
