// A real @grpc/grpc-js client for the apps under test, loaded from the published proto files, that
// returns every outcome (response, status, trailers, decoded error details) for the tests to assert.
import { type CallOptions, type Client, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';

import type { PackageDefinition } from '@grpc/proto-loader';

import { decodeStatusDetails, type DecodedStatusDetails } from '#grpc/grpc-call-error.js';
import { serviceClientConstructor } from '#grpc/grpc-client.js';

export interface CallSettings {
  /** Sent as `authorization: Bearer <token>`. */
  token?: string;
  /** More metadata entries, such as `idempotency-key` or a raw `authorization`. */
  metadata?: Record<string, string | string[]>;
  /** Milliseconds from now until the call's deadline. */
  deadlineMs?: number;
}

/** What a unary call ended with. Exactly one of `response` and `error` is set. */
export interface CallOutcome<Response> {
  response?: Response;
  error?: ServiceError;
  /** The google.rpc.Status of a failed call, decoded from `grpc-status-details-bin`. */
  details?: DecodedStatusDetails;
  /** Response headers (initial metadata). */
  headers: Metadata;
}

/** Returns the name of a status code, such as NOT_FOUND, so that failed assertions read well. */
export function statusName(code: number | undefined): string | undefined {
  return code === undefined ? undefined : status[code];
}

type UnaryMethod = (...args: unknown[]) => { on(event: 'metadata', listener: (headers: Metadata) => void): void };

export class GrpcTestClient {
  private constructor(readonly client: Client) {}

  /** Connects to `serviceName`, defined in `definition`, on 127.0.0.1:`port`. */
  static connect(definition: PackageDefinition, serviceName: string, port: number, options: Record<string, unknown> = {}): GrpcTestClient {
    const Service = serviceClientConstructor(definition, serviceName);
    return new GrpcTestClient(new Service(`127.0.0.1:${port}`, credentials.createInsecure(), options));
  }

  call<Response = Record<string, unknown>>(method: string, request: object, settings: CallSettings = {}): Promise<CallOutcome<Response>> {
    const metadata = new Metadata();
    if (settings.token !== undefined) metadata.set('authorization', `Bearer ${settings.token}`);
    for (const [key, value] of Object.entries(settings.metadata ?? {})) {
      for (const item of Array.isArray(value) ? value : [value]) metadata.add(key, item);
    }
    const options: CallOptions = settings.deadlineMs === undefined ? {} : { deadline: Date.now() + settings.deadlineMs };

    const invoke = (this.client as unknown as Record<string, UnaryMethod>)[method];
    if (typeof invoke !== 'function') throw new TypeError(`the service has no method ${method}`);
    return new Promise((resolve) => {
      let headers = new Metadata();
      const call = invoke.call(this.client, request, metadata, options, (error: ServiceError | null, response: Response) => {
        if (error) resolve({ error, details: decodeStatusDetails(error.metadata), headers });
        else resolve({ response, headers });
      });
      call.on('metadata', (received) => {
        headers = received;
      });
    });
  }

  /**
   * Sends `bytes` as the request message of the method at `path` without encoding them, for malformed and
   * oversized messages that the generated client would never produce.
   */
  callRaw(path: string, bytes: Buffer, settings: CallSettings = {}): Promise<CallOutcome<Buffer>> {
    const metadata = new Metadata();
    if (settings.token !== undefined) metadata.set('authorization', `Bearer ${settings.token}`);
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(
        path,
        (message: Buffer) => message,
        (message: Buffer) => message,
        bytes,
        metadata,
        {},
        (error, response) => {
          if (error) resolve({ error, details: decodeStatusDetails(error.metadata), headers: new Metadata() });
          else resolve({ response, headers: new Metadata() });
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
