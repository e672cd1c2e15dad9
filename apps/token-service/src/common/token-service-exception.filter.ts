import { type ArgumentsHost, Catch, type ExceptionFilter, Inject, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { ProblemDetailsFilter } from '#platform/problem-details/problem-details.filter.js';

import { OAuthError } from '../oauth/oauth-error.js';
import { oauthErrorFor } from '../oauth/oauth-error-mapping.js';
import { isInvalidTextError } from '#persistence/invalid-text-error.js';

/**
 * The token service's one exception filter. Errors on /oauth/* become OAuth error JSON (RFC 6749
 * §5.2) with `Cache-Control: no-store`, and errors on every other path become problem details
 * through the shared ProblemDetailsFilter. It is global, so Fastify's own errors (body too large,
 * malformed body, no route) reach it too.
 */
@Catch()
export class TokenServiceExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(TokenServiceExceptionFilter.name);

  constructor(@Inject(ProblemDetailsFilter) private readonly problemDetails: ProblemDetailsFilter) {}

  catch(exception: unknown, host: ArgumentsHost) {
    if (host.getType() !== 'http') return this.problemDetails.catch(exception, host);

    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const path = request.url.split('?')[0];
    if (!path.startsWith('/oauth/')) return this.problemDetails.catch(exception, host);

    const reply = host.switchToHttp().getResponse<FastifyReply>();
    let error = oauthErrorFor(exception);
    if (error === undefined && isInvalidTextError(exception)) {
      error = new OAuthError('invalid_request', 'a parameter contains a NUL character or an unpaired UTF-16 surrogate; remove it', 400);
    }
    if (error === undefined) {
      this.logger.error({ err: exception, method: request.method, path }, 'OAuth request failed with an unexpected error');
      error = new OAuthError('server_error', 'the server failed to handle the request; retry later', 500);
    }
    if (reply.sent) return undefined;
    const { error: code, description, status, headers } = error;
    void reply
      .status(status)
      .headers({ ...headers, 'cache-control': 'no-store', pragma: 'no-cache', 'content-type': 'application/json' })
      .send(JSON.stringify({ error: code, error_description: description }));
    return undefined;
  }
}
