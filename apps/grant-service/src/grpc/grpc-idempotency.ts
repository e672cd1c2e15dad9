import { Injectable } from '@nestjs/common';
import { Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';

import { GrpcCallError } from '#grpc/grpc-call-error.js';
import { idempotencyKeyFrom, idempotencyKeyMetadataKey, idempotentReplayedMetadataKey } from '#grpc/grpc-metadata.js';

import type { GrantApiCaller } from '../grants/auth/grant-api-caller.js';
import { IdempotencyRecords } from '../grants/idempotency/idempotency-records.js';
import { requestFingerprint } from '../grants/idempotency/request-fingerprint.js';

/**
 * Status code stored for a completed gRPC call. The column contains HTTP statuses, and a gRPC
 * call stores only successes, so 200 reads right for both transports.
 */
const completedStatusCode = 200;

/**
 * Gives mutating gRPC calls the REST API's Idempotency-Key semantics, on the same
 * `idempotency_records` table. With `idempotency-key` metadata, a call runs once per caller and
 * key. A retry of the same call returns the stored response with `idempotent-replayed: true`
 * metadata. The same key on another call fails with `idempotency.key_reused`, and a retry while
 * the first call runs fails with `idempotency.request_in_progress`. The fingerprint starts with
 * the gRPC method path, so a key used over REST never replays over gRPC or the other way round.
 */
@Injectable()
export class GrpcIdempotency {
  constructor(
    private readonly records: IdempotencyRecords,
    @InjectPinoLogger(GrpcIdempotency.name) private readonly logger: PinoLogger,
  ) {}

  /** Runs `execute` under the call's idempotency key, or simply runs it when the call sends none. */
  async run<Request, Response>(
    call: ServerUnaryCall<Request, Response>,
    caller: GrantApiCaller,
    methodPath: string,
    execute: () => Promise<Response>,
  ): Promise<Response> {
    const key = idempotencyKeyFrom(call.metadata);
    if (key === undefined) return execute();

    const requestHash = requestFingerprint('GRPC', methodPath, call.request);
    const claim = await this.records.claim(caller.id, key, requestHash);

    if (claim.state !== 'claimed' && claim.requestHash !== requestHash) {
      throw new GrpcCallError({
        code: 'idempotency.key_reused',
        message: 'This idempotency-key was already used for a different request, so send a new key for a new request.',
        field: idempotencyKeyMetadataKey,
      });
    }
    if (claim.state === 'in_progress') {
      throw new GrpcCallError({
        code: 'idempotency.request_in_progress',
        message: 'A call with this idempotency-key is still running, so retry after it completes.',
        field: idempotencyKeyMetadataKey,
      });
    }
    if (claim.state === 'completed') {
      const replayed = new Metadata();
      replayed.set(idempotentReplayedMetadataKey, 'true');
      call.sendMetadata(replayed);
      return claim.responseBody as Response;
    }

    let response: Response;
    try {
      response = await execute();
    } catch (error) {
      await this.release(caller.id, key);
      throw error;
    }
    await this.records.complete(caller.id, key, completedStatusCode, response);
    return response;
  }

  private async release(caller: string, key: string): Promise<void> {
    try {
      await this.records.release(caller, key);
    } catch (error) {
      // The key stays in progress until it counts as abandoned, and retries get ABORTED until then.
      this.logger.error({ err: error, caller }, 'Idempotency key could not be released after a failed gRPC call');
    }
  }
}
