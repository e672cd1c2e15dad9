import { isPrintableIdentifier } from './actor.js';
import { GrantError } from './grant-error.js';

export function parseUserId(value: unknown, field = 'user_id'): string {
  if (typeof value !== 'string' || !isPrintableIdentifier(value)) {
    throw new GrantError('grant.invalid_user_id', `${field} must be a string of 1 to 255 characters without control characters`, field);
  }
  return value;
}

export function parseClientId(value: unknown, field = 'client_id'): string {
  if (typeof value !== 'string' || !isPrintableIdentifier(value)) {
    throw new GrantError(
      'grant.invalid_client_id',
      `${field} must be a string of 1 to 255 characters without control characters`,
      field,
    );
  }
  return value;
}
