import { Metadata, type StatusObject } from '@grpc/grpc-js';
import protobuf from 'protobufjs';

import { grpcStatusForCode } from './grpc-status-codes.js';
import { protoFilePath } from './proto-files.js';

/** `ErrorInfo.domain` of every error this service sends. */
export const errorDomain = 'offline-grants';

/** Plain metadata entry with the stable code, for clients that do not decode the status details. */
export const errorCodeMetadataKey = 'error-code';

/** Trailer that carries the binary google.rpc.Status, as the gRPC error model defines it. */
export const statusDetailsMetadataKey = 'grpc-status-details-bin';

const errorInfoTypeUrl = 'type.googleapis.com/google.rpc.ErrorInfo';

/** A failed call before it is sent: the stable code and what the client reads about it. */
export interface GrpcErrorDescription {
  /** Stable code such as `grant.not_found`; it selects the gRPC status. */
  code: string;
  /** One sentence naming the value at fault and the fix, sent as the status message. */
  message: string;
  /** The request field at fault, sent as `ErrorInfo.metadata["field"]`. */
  field?: string;
  /** More `ErrorInfo.metadata` entries, such as `oauth_error`. */
  details?: Record<string, string>;
}

/** An error that the gRPC edge sends to the client exactly as described. */
export class GrpcCallError extends Error {
  override readonly name = 'GrpcCallError';

  constructor(readonly description: GrpcErrorDescription) {
    super(description.message);
  }
}

/** google.rpc.ErrorInfo as decoded from a response. */
export interface ErrorInfo {
  reason: string;
  domain: string;
  metadata: Record<string, string>;
}

/** The error model of a failed call as a client decodes it from the trailers. */
export interface DecodedStatusDetails {
  code: number;
  message: string;
  errorInfo: ErrorInfo | undefined;
}

let cachedRoot: protobuf.Root | undefined;

function statusTypes(): { status: protobuf.Type; any: protobuf.Type; errorInfo: protobuf.Type } {
  cachedRoot ??= new protobuf.Root().loadSync([protoFilePath('google/rpc/status.proto'), protoFilePath('google/rpc/error_details.proto')], {
    keepCase: true,
  });
  return {
    status: cachedRoot.lookupType('google.rpc.Status'),
    any: cachedRoot.lookupType('google.protobuf.Any'),
    errorInfo: cachedRoot.lookupType('google.rpc.ErrorInfo'),
  };
}

/**
 * Builds the status that grpc-js sends for a failed call: the gRPC code from the one mapping
 * table, the message, and trailers with the stable code both as plain `error-code` metadata and
 * inside a google.rpc.Status with one google.rpc.ErrorInfo.
 */
export function toStatusObject(description: GrpcErrorDescription): Partial<StatusObject> {
  const code = grpcStatusForCode(description.code);
  const types = statusTypes();

  const errorInfoMetadata: Record<string, string> = { ...description.details };
  if (description.field !== undefined) errorInfoMetadata.field = description.field;
  const errorInfo = types.errorInfo.encode(
    types.errorInfo.create({ reason: description.code, domain: errorDomain, metadata: errorInfoMetadata }),
  ).finish();
  const statusDetails = types.status
    .encode(
      types.status.create({
        code,
        message: description.message,
        details: [types.any.create({ type_url: errorInfoTypeUrl, value: errorInfo })],
      }),
    )
    .finish();

  const metadata = new Metadata();
  metadata.set(errorCodeMetadataKey, description.code);
  metadata.set(statusDetailsMetadataKey, Buffer.from(statusDetails));
  return { code, details: description.message, metadata };
}

/**
 * Decodes the google.rpc.Status that a failed call carries in its trailers, or returns
 * undefined when it has none. Tests and clients of this project use it to read the stable code.
 */
export function decodeStatusDetails(trailers: Metadata): DecodedStatusDetails | undefined {
  const [encoded] = trailers.get(statusDetailsMetadataKey);
  if (!Buffer.isBuffer(encoded)) return undefined;

  const types = statusTypes();
  const decoded = types.status.toObject(types.status.decode(encoded), { defaults: true }) as {
    code: number;
    message: string;
    details: Array<{ type_url: string; value: Uint8Array }>;
  };
  const packed = decoded.details.find((detail) => detail.type_url === errorInfoTypeUrl);
  const errorInfo =
    packed === undefined
      ? undefined
      : (types.errorInfo.toObject(types.errorInfo.decode(packed.value), { defaults: true, objects: true }) as ErrorInfo);
  return { code: decoded.code, message: decoded.message, errorInfo };
}
