import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { catchError, concatMap, from, type Observable, of } from 'rxjs';

import { ProblemError } from '#platform/problem-details/problem.js';

import { callerOf } from '../auth/grant-api-caller.js';
import { IdempotencyRecords } from './idempotency-records.js';
import { requestFingerprint } from './request-fingerprint.js';

/** 1 to 255 visible ASCII characters (%x21-7E), as the Idempotency-Key header allows here. */
const idempotencyKeyPattern = /^[\x21-\x7e]{1,255}$/;

/**
 * Makes a mutating request with an `Idempotency-Key` header run once per caller and key. The
 * exception is a request whose instance stopped mid-way: after IdempotencyRecords' abandon age,
 * a retry runs it again, which is safe because a grant command changes nothing once applied.
 * A retry with the same method, target and body replays the stored response with the header
 * `Idempotent-Replayed: true`. The same key with another request gets 422
 * `idempotency.key_reused`, and a retry while the first request still runs gets 409
 * `idempotency.request_in_progress`. Only successful responses are stored. A failed request
 * frees its key so that the client can retry it.
 *
 * Runs after GrantApiGuard, because keys are scoped to the authenticated caller.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly records: IdempotencyRecords,
    @InjectPinoLogger(IdempotencyInterceptor.name) private readonly logger: PinoLogger,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const key = parseIdempotencyKey(request.headers['idempotency-key']);
    if (key === undefined) return next.handle();

    const caller = callerOf(request).id;
    const requestHash = requestFingerprint(request.method, request.url, request.body);
    const claim = await this.records.claim(caller, key, requestHash);

    if (claim.state !== 'claimed' && claim.requestHash !== requestHash) {
      throw new ProblemError({
        status: 422,
        code: 'idempotency.key_reused',
        title: 'Idempotency key reused',
        detail: 'This Idempotency-Key was already used for a different request, so send a new key for a new request.',
        field: 'Idempotency-Key',
      });
    }
    if (claim.state === 'in_progress') {
      throw new ProblemError({
        status: 409,
        code: 'idempotency.request_in_progress',
        title: 'Request in progress',
        detail: 'A request with this Idempotency-Key is still running, so retry after it completes.',
        field: 'Idempotency-Key',
        headers: { 'Retry-After': '1' },
      });
    }
    if (claim.state === 'completed') {
      void reply.status(claim.statusCode).header('Idempotent-Replayed', 'true');
      return of(claim.responseBody);
    }

    return next.handle().pipe(
      concatMap(async (body: unknown) => {
        await this.records.complete(caller, key, reply.statusCode, body);
        return body;
      }),
      catchError((error: unknown) =>
        from(this.releaseAfterFailure(caller, key)).pipe(
          concatMap(() => {
            throw error;
          }),
        ),
      ),
    );
  }

  private async releaseAfterFailure(caller: string, key: string): Promise<void> {
    try {
      await this.records.release(caller, key);
    } catch (error) {
      // The key stays in progress until it counts as abandoned, and retries get 409 until then.
      this.logger.error({ err: error, caller }, 'Idempotency key could not be released after a failed request');
    }
  }
}

function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !idempotencyKeyPattern.test(header)) {
    throw new ProblemError({
      status: 400,
      code: 'request.invalid_idempotency_key',
      title: 'Invalid Idempotency-Key',
      detail: 'The Idempotency-Key header must be 1 to 255 visible ASCII characters, such as a UUID.',
      field: 'Idempotency-Key',
    });
  }
  return header;
}
