import type { Deadline, handleUnaryCall, ServerUnaryCall } from '@grpc/grpc-js';

import { type GrpcErrorDescription, GrpcCallError, toStatusObject } from './grpc-call-error.js';

/** The pino methods the gRPC edge logs with; nestjs-pino's PinoLogger has them. */
export interface GrpcLogger {
  info(context: object, message: string): void;
  warn(context: object, message: string): void;
  error(context: object, message: string): void;
}

/**
 * Translates an app's own errors, such as GrantError, into the description sent to the client,
 * or returns undefined for an error it does not handle, which then counts as unexpected.
 */
export type GrpcErrorTranslator = (error: unknown) => GrpcErrorDescription | undefined;

/**
 * Marker for a request message that could not be decoded. grpc-js would respond INTERNAL to a
 * decoding failure, but a malformed message is the client's fault, so the request deserializer
 * returns this marker and unaryCall responds INVALID_ARGUMENT.
 */
export class MalformedRequest {
  constructor(readonly reason: string) {}
}

const unexpectedError: GrpcErrorDescription = {
  code: 'internal_error',
  message: 'The server failed to handle the call; retry later.',
};

export interface UnaryCallOptions<Request, Response> {
  /** Method name for the logs, such as `CreateGrant`. */
  method: string;
  logger: GrpcLogger;
  translateError: GrpcErrorTranslator;
  handle: (request: Request, call: ServerUnaryCall<Request, Response>) => Promise<Response>;
}

/**
 * Adapts an async handler to grpc-js. It rejects a malformed request with INVALID_ARGUMENT,
 * skips a call that is already cancelled (which includes a passed deadline), and maps every
 * error through GrpcCallError, the app's translator, or else `internal_error`, which is logged
 * once here and sent without detail.
 */
export function unaryCall<Request, Response>(options: UnaryCallOptions<Request, Response>): handleUnaryCall<Request, Response> {
  return (call, callback) => {
    const respond = async () => {
      try {
        if (call.request instanceof MalformedRequest) {
          throw new GrpcCallError({
            code: 'request.malformed_message',
            message: `The request message is not a valid ${options.method} request (${call.request.reason}), so encode it with the published proto file.`,
          });
        }
        throwIfCancelled(call);
        callback(null, await options.handle(call.request, call));
      } catch (error) {
        callback(toStatusObject(describeError(error, options)));
      }
    };
    void respond();
  };
}

/**
 * Raises GrpcCallError `request.cancelled` when the client cancelled the call or its deadline
 * passed. Handlers call it right before work that changes state, so that an abandoned call does
 * not start a command that no client waits for. grpc-js has already sent CANCELLED or
 * DEADLINE_EXCEEDED for such a call and drops this error's status. The deadline is compared here
 * because grpc-js (1.14) sends DEADLINE_EXCEEDED without setting `cancelled`.
 */
export function throwIfCancelled(call: Pick<ServerUnaryCall<unknown, unknown>, 'cancelled' | 'getDeadline'>): void {
  if (call.cancelled || deadlinePassed(call.getDeadline())) {
    throw new GrpcCallError({ code: 'request.cancelled', message: 'The call was cancelled or its deadline passed before the server started it.' });
  }
}

/** Returns whether the deadline has passed. A call without a deadline has Infinity, which never passes. */
function deadlinePassed(deadline: Deadline): boolean {
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  return deadlineMs <= Date.now();
}

function describeError<Request, Response>(error: unknown, options: UnaryCallOptions<Request, Response>): GrpcErrorDescription {
  if (error instanceof GrpcCallError) return error.description;
  const translated = options.translateError(error);
  if (translated !== undefined) return translated;
  options.logger.error({ err: error, method: options.method }, 'gRPC call failed with an unexpected error');
  return unexpectedError;
}
