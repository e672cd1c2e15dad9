import { z } from 'zod';

import { integerVariable } from '#config/environment-variables.js';

/** An absolute http or https URL. */
const httpUrlVariable = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  },
  { error: 'must be an absolute http or https URL, such as https://login.example.com/.well-known/jwks.json' },
);

const nonEmptyVariable = z.string().min(1, { error: 'must not be empty' });

/** Variables of the REST grant API, spread into the grant service's config schema. */
export const grantApiVariables = {
  /** JWKS of the authorization server that issues the grant API's access tokens. */
  GRANT_API_JWKS_URL: httpUrlVariable.default('http://127.0.0.1:3001/.well-known/jwks.json'),
  /** Expected `iss` claim of those access tokens. */
  GRANT_API_ISSUER: nonEmptyVariable.default('http://127.0.0.1:3001'),
  /** Expected `aud` claim of those access tokens. */
  GRANT_API_AUDIENCE: nonEmptyVariable.default('offline-grants-api'),
  /** Maximum time in ms that a read with `min_position` waits for the projection before it responds 503. */
  GRANT_API_MIN_POSITION_WAIT_MS: integerVariable(0, 60_000, 'milliseconds').default(2000),
};
