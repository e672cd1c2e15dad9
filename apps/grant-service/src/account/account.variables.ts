import { z } from 'zod';

/** JWS algorithms an account access token may be signed with; `none` and HMAC are never accepted. */
export const accountTokenAlgorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** An http or https URL without query or fragment, as OpenID Connect Discovery 1.0 §2 requires of an issuer. */
const issuerVariable = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.search === '' && url.hash === '';
    } catch {
      return false;
    }
  },
  { error: 'must be an http or https URL without query or fragment, such as https://login.example.com' },
);

const visibleAsciiVariable = z.string().regex(/^[\x21-\x7e]{1,255}$/, { error: 'must be 1 to 255 visible ASCII characters' });

const algorithmListVariable = z
  .string()
  .transform((value) => value.split(',').map((algorithm) => algorithm.trim()))
  .refine((algorithms) => algorithms.every((algorithm) => (accountTokenAlgorithms as readonly string[]).includes(algorithm)), {
    error: `must be a comma-separated list of ${accountTokenAlgorithms.join(', ')}`,
  });

/** Variables of the account page and its API; spread into the grant service's config schema. */
export const accountVariables = {
  /** OpenID provider that users sign in with. While it is unset, the account page and API report that sign-in is not configured. */
  ACCOUNT_OIDC_ISSUER: issuerVariable.optional(),
  /** Client id of the account page at that provider: a public client using PKCE S256. */
  ACCOUNT_OIDC_CLIENT_ID: visibleAsciiVariable.default('offline-grants-account'),
  /** Scopes the account page requests at sign-in; `openid` is required, and `profile` lets the page show the user's name. */
  ACCOUNT_OIDC_SCOPE: z
    .string()
    .regex(/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/, { error: 'must be space-separated RFC 6749 scope-tokens' })
    .refine((scope) => scope.split(' ').includes('openid'), { error: 'must include openid' })
    .default('openid profile'),
  /** Expected `aud` of the access tokens the account page sends; unchecked while unset. */
  ACCOUNT_OIDC_AUDIENCE: visibleAsciiVariable.optional(),
  /** Signature algorithms accepted on those access tokens. */
  ACCOUNT_OIDC_ALGORITHMS: algorithmListVariable.default(['RS256', 'PS256', 'ES256', 'EdDSA']),
  /** Expected JOSE `typ` header of those access tokens; RFC 9068 §2.1 sets `at+jwt`. */
  ACCOUNT_OIDC_ACCESS_TOKEN_TYP: visibleAsciiVariable.default('at+jwt'),
};
