import { OAuthError } from './oauth-error.js';

/** scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) (RFC 6749 §3.3). */
const scopeToken = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * Parses the space-separated `scope` parameter into a set: case-sensitive, a repeated scope
 * counts once. Returns undefined when the parameter is omitted; a malformed token is invalid_scope.
 */
export function parseScopeParameter(value: string | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const scopes = new Set<string>();
  for (const token of value.split(' ')) {
    if (token === '') continue;
    if (token.length > 255 || !scopeToken.test(token)) {
      throw new OAuthError('invalid_scope', 'the scope parameter must be RFC 6749 scope-tokens separated by single spaces');
    }
    scopes.add(token);
  }
  if (scopes.size === 0) return undefined;
  return scopes;
}
