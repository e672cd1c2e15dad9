import type { Problem } from '#platform/problem-details/problem.js';

/**
 * RFC 6750 §3 challenge sent with every 401 of the account API. An `error` attribute is added
 * only when a token was presented (RFC 6750 §3.1).
 */
function bearerChallenge(error?: { code: string; description: string }): string {
  if (error === undefined) return 'Bearer realm="account"';
  // Quoted-string values must not contain '"' or '\' (RFC 9110 §5.6.4); descriptions are ours.
  return `Bearer realm="account", error="${error.code}", error_description="${error.description.replace(/["\\]/g, "'")}"`;
}

/** 401 for a request without a bearer token. */
export function missingTokenProblem(): Problem {
  return {
    status: 401,
    code: 'auth.missing_token',
    title: 'Missing access token',
    detail: 'The request has no access token, so send the signed-in user\'s token as "Authorization: Bearer <token>".',
    headers: { 'www-authenticate': bearerChallenge() },
  };
}

/** 401 for a token that is malformed, expired, wrongly signed or meant for someone else. */
export function invalidTokenProblem(detail: string): Problem {
  return {
    status: 401,
    code: 'auth.invalid_token',
    title: 'Invalid access token',
    detail,
    headers: { 'www-authenticate': bearerChallenge({ code: 'invalid_token', description: detail }) },
  };
}

/** 503 while ACCOUNT_OIDC_ISSUER is unset. */
export function accountNotConfiguredProblem(): Problem {
  return {
    status: 503,
    code: 'account.not_configured',
    title: 'Account sign-in not configured',
    detail: 'The account API is disabled because ACCOUNT_OIDC_ISSUER is not set on the grant service, so set it to the OpenID provider users sign in with.',
  };
}

/** 503 when the issuer's discovery document or key set cannot be fetched. */
export function issuerUnavailableProblem(issuer: string): Problem {
  return {
    status: 503,
    code: 'account.issuer_unavailable',
    title: 'Sign-in provider unavailable',
    detail: `The signing keys of the OpenID provider ${issuer} could not be fetched, so the access token cannot be checked; retry later.`,
    headers: { 'retry-after': '5' },
  };
}
