import { HttpException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';

import type { Problem } from './problem.js';

/** The parts of a request that framework problems name. */
export interface RequestSummary {
  method: string;
  /** Path without the query string. */
  path: string;
  contentType?: string;
  /** Body limit of the matched route in bytes, when Fastify reports one. */
  bodyLimitBytes?: number;
}

/** A Fastify error as created by @fastify/error: a `FST_ERR_*` code and an HTTP status. */
interface FastifyError {
  code: string;
  statusCode: number;
  message: string;
}

function isFastifyError(value: unknown): value is FastifyError {
  const candidate = value as Partial<FastifyError> | null | undefined;
  return (
    typeof candidate?.code === 'string' &&
    candidate.code.startsWith('FST_ERR_') &&
    typeof candidate.statusCode === 'number'
  );
}

/**
 * The Fastify error behind `exception`: Fastify's content-type parser and router raise them
 * before any handler runs, and Nest's Fastify adapter wraps the 4xx ones in an HttpException
 * whose `cause` is the original error.
 */
export function fastifyErrorOf(exception: unknown): FastifyError | undefined {
  if (isFastifyError(exception)) return exception;
  if (exception instanceof HttpException && isFastifyError(exception.cause)) return exception.cause;
  return undefined;
}

/** Maps the Fastify errors a client can cause to problems, or returns undefined for server faults. */
export function problemForFastifyError(error: FastifyError, request: RequestSummary): Problem | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return {
        status: 400,
        code: 'request.invalid_json',
        title: 'Invalid JSON',
        detail: 'The request body must be a valid JSON document, such as a JSON object.',
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        status: 400,
        code: 'request.invalid_json',
        title: 'Invalid JSON',
        detail: 'The request body is empty although Content-Type is application/json, so send a JSON object or omit Content-Type.',
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return unsupportedMediaType(request.contentType);
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = request.bodyLimitBytes === undefined ? 'the limit' : `${request.bodyLimitBytes} bytes`;
      return {
        status: 413,
        code: 'request.body_too_large',
        title: 'Request body too large',
        detail: `The request body must not be larger than ${limit}.`,
      };
    }
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        status: 400,
        code: 'request.invalid_content_length',
        title: 'Invalid Content-Length',
        detail: 'The request body length must equal its Content-Length header.',
      };
    case 'FST_ERR_BAD_URL':
      return {
        status: 400,
        code: 'request.invalid_url',
        title: 'Invalid URL',
        detail: `The path ${request.path} is not a valid URL path, so percent-encode its reserved characters.`,
      };
    default:
      if (error.statusCode >= 400 && error.statusCode < 500) {
        return {
          status: error.statusCode,
          code: 'request.rejected',
          title: STATUS_CODES[error.statusCode] ?? 'Request rejected',
          detail: `The request was rejected (${error.code}): ${error.message}.`,
        };
      }
      return undefined;
  }
}

/** Builds the 415 problem for a body whose media type the route does not accept. */
export function unsupportedMediaType(contentType: string | undefined): Problem {
  const received = contentType === undefined || contentType === '' ? 'no Content-Type' : `Content-Type ${contentType}`;
  return {
    status: 415,
    code: 'request.unsupported_media_type',
    title: 'Unsupported media type',
    detail: `The request body has ${received}, but this route accepts only application/json.`,
  };
}

/** Codes of the 4xx HttpExceptions that Nest and its libraries raise, by status. */
const codeByStatus: Readonly<Record<number, string>> = {
  400: 'request.invalid',
  401: 'auth.invalid_token',
  403: 'auth.forbidden',
  404: 'route.not_found',
  405: 'request.method_not_allowed',
  406: 'request.not_acceptable',
  408: 'request.timeout',
  409: 'request.conflict',
  413: 'request.body_too_large',
  415: 'request.unsupported_media_type',
  422: 'request.unprocessable',
  429: 'request.rate_limited',
};

/**
 * Maps a 4xx HttpException to a problem. A 404 without a more specific mapper is Nest's
 * not-found handler, which runs when no route matches the method and path.
 */
export function problemForHttpException(exception: HttpException, request: RequestSummary): Problem {
  const status = exception.getStatus();
  if (status === 404) {
    return {
      status,
      code: 'route.not_found',
      title: 'Route not found',
      detail: `No route matches ${request.method} ${request.path}, so check the method and the path.`,
    };
  }
  return {
    status,
    code: codeByStatus[status] ?? 'request.rejected',
    title: STATUS_CODES[status] ?? 'Request rejected',
    detail: sentence(exception.message),
  };
}

function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
