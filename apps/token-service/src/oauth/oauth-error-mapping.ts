import { HttpException } from '@nestjs/common';

import { fastifyErrorOf } from '#platform/problem-details/framework-problems.js';

import { TokenServiceError } from '../common/token-service-error.js';
import { OAuthError } from './oauth-error.js';

/**
 * Maps an error raised while serving /oauth/* to its OAuth error (RFC 6749 §5.2, RFC 7009 §2.2.1).
 * Returns undefined for an unexpected error, which the caller logs and returns as a 500.
 */
export function oauthErrorFor(exception: unknown): OAuthError | undefined {
  if (exception instanceof OAuthError) return exception;
  if (exception instanceof TokenServiceError) return fromTokenServiceError(exception);

  const fastifyError = fastifyErrorOf(exception);
  if (fastifyError?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new OAuthError('invalid_request', 'the request body is larger than the server accepts', 413);
  }
  if (fastifyError !== undefined && fastifyError.statusCode < 500) {
    return new OAuthError('invalid_request', `the request body cannot be read (${fastifyError.code}); send it as application/x-www-form-urlencoded`);
  }
  if (exception instanceof HttpException && exception.getStatus() < 500) {
    const status = exception.getStatus();
    const description = status === 404 || status === 405 ? 'no OAuth endpoint matches this method and path' : exception.message;
    return new OAuthError('invalid_request', description, status);
  }
  return undefined;
}

function fromTokenServiceError(error: TokenServiceError): OAuthError {
  switch (error.code) {
    case 'token.projection_stale':
    case 'token.projection_behind':
    case 'token.grant_revocation_failed':
      return new OAuthError('temporarily_unavailable', error.message, 503, { 'Retry-After': '1' });
    case 'token.scope_not_granted':
    case 'client.scope_not_allowed':
      return new OAuthError('invalid_scope', error.message);
    case 'client.authentication_failed':
      return new OAuthError('invalid_client', error.message, 401);
    case 'client.not_confidential':
      return new OAuthError('unauthorized_client', error.message);
    default:
      // Every other token.* code means the presented refresh token cannot be used (RFC 6749 §5.2).
      return error.code.startsWith('token.')
        ? new OAuthError('invalid_grant', error.message)
        : new OAuthError('invalid_request', error.message);
  }
}
