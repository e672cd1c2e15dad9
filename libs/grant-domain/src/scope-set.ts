import { GrantError } from './grant-error.js';

export const maxScopes = 100;
export const maxScopeLength = 255;

/** scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) from RFC 6749 §3.3: printable ASCII except space, `"` and `\`. */
const scopeToken = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * Validates scopes as RFC 6749 scope-tokens and returns them as a set: de-duplicated,
 * case-sensitive, sorted so that two equal sets compare equal.
 */
export function parseScopes(value: unknown, field = 'scopes'): string[] {
  if (!Array.isArray(value)) {
    throw new GrantError('grant.invalid_scopes', `${field} must be an array of scope strings`, field);
  }
  const scopes = new Set<string>();
  for (const [index, scope] of value.entries()) {
    if (typeof scope !== 'string' || scope.length > maxScopeLength || !scopeToken.test(scope)) {
      throw new GrantError(
        'grant.invalid_scopes',
        `${field}[${index}] must be an RFC 6749 scope-token: 1 to ${maxScopeLength} printable ASCII characters without space, '"' or '\\'`,
        `${field}[${index}]`,
      );
    }
    scopes.add(scope);
  }
  if (scopes.size < 1 || scopes.size > maxScopes) {
    throw new GrantError('grant.invalid_scopes', `${field} must hold 1 to ${maxScopes} distinct scopes`, field);
  }
  return [...scopes].sort();
}

/** Checks whether two scope sets, each as returned by parseScopes, contain the same scopes. */
export function sameScopes(left: readonly string[], right: readonly string[]): boolean {
  return left.length === right.length && left.every((scope, index) => scope === right[index]);
}
