import type { Metadata } from '@grpc/grpc-js';

import { GrpcCallError } from './grpc-call-error.js';

/** RFC 6750 §2.1: `Bearer` (case-insensitive scheme) followed by a token68 value. */
const bearerPattern = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** 1 to 255 visible ASCII characters (%x21-7E), the same rule as the REST Idempotency-Key header. */
const idempotencyKeyPattern = /^[\x21-\x7e]{1,255}$/;

/** Metadata key of the optional idempotency key on mutating calls. */
export const idempotencyKeyMetadataKey = 'idempotency-key';

/** Response metadata entry that marks a replayed response, like the REST Idempotent-Replayed header. */
export const idempotentReplayedMetadataKey = 'idempotent-replayed';

/**
 * Returns the one text value of a metadata key, or undefined when the call does not send it.
 * Raises GrpcCallError with `errorCode` when the key is repeated, because a repeated credential
 * or key is ambiguous.
 */
export function singleMetadataValue(metadata: Metadata, key: string, errorCode = 'request.invalid_metadata'): string | undefined {
  const values = metadata.get(key);
  if (values.length === 0) return undefined;
  if (values.length > 1 || typeof values[0] !== 'string') {
    throw new GrpcCallError({ code: errorCode, message: `The ${key} metadata must be sent once, as text.`, field: key });
  }
  return values[0];
}

/** Returns the access token of `authorization: Bearer <token>` metadata, or raises GrpcCallError `auth.invalid_token`. */
export function bearerTokenFrom(metadata: Metadata): string {
  const authorization = singleMetadataValue(metadata, 'authorization', 'auth.invalid_token');
  if (authorization === undefined || authorization === '') {
    throw new GrpcCallError({
      code: 'auth.invalid_token',
      message: 'The authorization metadata is missing, so send authorization: Bearer <access token>.',
      field: 'authorization',
    });
  }
  const match = bearerPattern.exec(authorization.trim());
  if (match === null) {
    throw new GrpcCallError({
      code: 'auth.invalid_token',
      message: 'The authorization metadata must have the form Bearer <access token>.',
      field: 'authorization',
    });
  }
  return match[1];
}

/** Returns the `idempotency-key` metadata, or undefined without one. Raises GrpcCallError for an invalid key. */
export function idempotencyKeyFrom(metadata: Metadata): string | undefined {
  const key = singleMetadataValue(metadata, idempotencyKeyMetadataKey, 'request.invalid_idempotency_key');
  if (key === undefined) return undefined;
  if (!idempotencyKeyPattern.test(key)) {
    throw new GrpcCallError({
      code: 'request.invalid_idempotency_key',
      message: 'The idempotency-key metadata must be 1 to 255 visible ASCII characters, such as a UUID.',
      field: idempotencyKeyMetadataKey,
    });
  }
  return key;
}
