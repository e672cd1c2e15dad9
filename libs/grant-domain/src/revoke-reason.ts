import { GrantError } from './grant-error.js';

/** Reasons a grant ends. Subscribers may switch on these values, so add to the list and never rename. */
export const revokeReasons = [
  'user',
  'admin',
  'token_revoked',
  'refresh_token_reused',
  'client_removed',
  'user_removed',
  'expired',
  'consent_expired',
] as const;
export type RevokeReason = (typeof revokeReasons)[number];

export function parseRevokeReason(value: unknown, field = 'reason'): RevokeReason {
  if (typeof value !== 'string' || !(revokeReasons as readonly string[]).includes(value)) {
    throw new GrantError('grant.invalid_reason', `${field} must be one of ${revokeReasons.join(', ')}`, field);
  }
  return value as RevokeReason;
}
