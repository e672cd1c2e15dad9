import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { throwError } from 'rxjs';

import {
  fastifyErrorOf,
  problemForFastifyError,
  problemForHttpException,
  type RequestSummary,
} from './framework-problems.js';
import { type Problem, problemBody, problemContentType, ProblemError, type ProblemMapper } from './problem.js';
import { isInvalidTextError } from '#persistence/invalid-text-error.js';

/** Injection token of the app's ProblemMapper list, tried in order before the built-in rules. */
export const PROBLEM_MAPPERS = Symbol('PROBLEM_MAPPERS');

const internalError: Problem = { status: 500, code: 'internal_error', title: 'Internal server error' };

const invalidTextProblem: Problem = {
  status: 400,
  code: 'request.invalid_text',
  title: 'Invalid text',
  detail: 'A value contains a NUL character or an unpaired UTF-16 surrogate, which cannot be stored; remove it and retry.',
};

/**
 * Responds to every HTTP error with RFC 9457 problem details. A ProblemError is sent as it is,
 * app errors go through the registered mappers, and Fastify's parser and router errors and
 * Nest's 4xx HttpExceptions are mapped by their code or status. Anything else is logged once
 * and gets 500 `internal_error` without detail, so no message or stack trace reaches the client.
 *
 * A 5xx HttpException keeps Nest's default body, because handlers throw it on purpose: the
 * readiness probe's 503 carries the state of each dependency.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(
    @Inject(PROBLEM_MAPPERS) private readonly mappers: readonly ProblemMapper[],
    @InjectPinoLogger(ProblemDetailsFilter.name) private readonly logger: PinoLogger,
  ) {}

  catch(exception: unknown, host: ArgumentsHost) {
    if (host.getType() !== 'http') {
      // RPC transports have their own error mapping, so the error goes back to them unchanged.
      return throwError(() => exception);
    }
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();

    if (exception instanceof HttpException && exception.getStatus() >= 500 && fastifyErrorOf(exception) === undefined) {
      this.send(reply, exception.getStatus(), 'application/json', {}, exception.getResponse());
      return undefined;
    }

    const summary = summarize(request);
    let problem = this.problemFor(exception, summary);
    if (problem === undefined) {
      this.logger.error({ err: exception, method: summary.method, path: summary.path }, 'Request failed with an unexpected error');
      problem = internalError;
    }
    this.send(reply, problem.status, problemContentType, problem.headers ?? {}, problemBody(problem));
    return undefined;
  }

  private problemFor(exception: unknown, request: RequestSummary): Problem | undefined {
    if (exception instanceof ProblemError) return exception.problem;
    for (const mapper of this.mappers) {
      const problem = mapper(exception);
      if (problem !== undefined) return problem;
    }
    if (isInvalidTextError(exception)) return invalidTextProblem;
    const fastifyError = fastifyErrorOf(exception);
    if (fastifyError !== undefined) return problemForFastifyError(fastifyError, request);
    if (exception instanceof HttpException && exception.getStatus() < 500) return problemForHttpException(exception, request);
    return undefined;
  }

  private send(reply: FastifyReply, status: number, contentType: string, headers: Record<string, string>, body: unknown): void {
    if (reply.sent) {
      this.logger.warn({ status }, 'Error response skipped because the response was already sent');
      return;
    }
    void reply
      .status(status)
      .headers({ ...headers, 'content-type': contentType })
      .send(JSON.stringify(body));
  }
}

function summarize(request: FastifyRequest): RequestSummary {
  const url = request.url ?? '/';
  const queryStart = url.indexOf('?');
  const bodyLimit = (request.routeOptions as { bodyLimit?: unknown } | undefined)?.bodyLimit;
  return {
    method: request.method,
    path: queryStart === -1 ? url : url.slice(0, queryStart),
    contentType: request.headers?.['content-type'],
    bodyLimitBytes: typeof bodyLimit === 'number' ? bodyLimit : undefined,
  };
}
