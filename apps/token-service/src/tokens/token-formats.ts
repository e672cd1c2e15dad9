/** JWS `typ` of offline refresh tokens; no other token type is accepted where this one is expected. */
export const refreshTokenType = 'offline-rt+jwt';

/** JWS `typ` of access tokens (RFC 9068 §2.1). */
export const accessTokenType = 'at+jwt';

export type TokenType = typeof refreshTokenType | typeof accessTokenType;

/** Claims of an offline refresh token; `exp` only when the client limits the grant's lifetime. */
export interface OfflineRefreshTokenClaims {
  iss: string;
  /** The user who granted access. */
  sub: string;
  client_id: string;
  grant_id: string;
  /** Space-separated scopes, as in RFC 6749 §3.3. */
  scope: string;
  iat: number;
  jti: string;
  exp?: number;
}

/** Claims of an RFC 9068 access token; `grant_id` when it was derived from an offline refresh token. */
export interface AccessTokenClaims {
  iss: string;
  /** The user, or the client itself for the client_credentials grant (RFC 9068 §2.2). */
  sub: string;
  aud: string;
  client_id: string;
  scope: string;
  grant_id?: string;
  iat: number;
  exp: number;
  jti: string;
}

/** Splits a space-separated scope claim into a set. */
export function scopeSet(scope: string): Set<string> {
  return new Set(scope.split(' ').filter((token) => token !== ''));
}

/** Joins scopes into the space-separated form of the `scope` claim and parameter, sorted. */
export function scopeString(scopes: Iterable<string>): string {
  return [...new Set(scopes)].sort().join(' ');
}
