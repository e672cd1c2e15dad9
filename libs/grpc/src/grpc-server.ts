import {
  type handleUnaryCall,
  type MethodDefinition,
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath, type ServingStatus } from 'grpc-health-check';

import { loadProtoFiles, protoLoaderOptions } from './proto-files.js';
import { type GrpcLogger, MalformedRequest } from './unary-call.js';

/** Largest request message accepted, the same as the REST body limit; larger ones get RESOURCE_EXHAUSTED. */
export const defaultMaxReceiveMessageBytes = 64 * 1024;

export interface GrpcServiceRegistration {
  /** Fully qualified name, such as `offline_grants.grants.v1.GrantService`. */
  name: string;
  implementation: UntypedServiceImplementation;
}

export interface GrpcServerOptions {
  host: string;
  /** 0 picks a free port, which tests use. */
  port: number;
  /** Proto files relative to the proto root that define the services. */
  protoFiles: readonly string[];
  services: readonly GrpcServiceRegistration[];
  /** Whether the app can serve; drives the grpc.health.v1 status. */
  readiness: () => Promise<boolean>;
  logger: GrpcLogger;
  maxReceiveMessageBytes?: number;
  /** How often readiness is checked for the health service. */
  healthCheckIntervalMs?: number;
  /** How long in-flight calls may take to finish on stop before they are cancelled. */
  shutdownGraceMs?: number;
}

/**
 * A grpc-js server with the app's services, standard health checking (grpc.health.v1, fed from
 * the app's readiness) and server reflection. Every service reports NOT_SERVING until the first
 * readiness check passes, and again from the moment `stop` begins.
 */
export class GrpcServer {
  /**
   * Unary handlers that have not called back yet. grpc-js stops tracking a call once its status
   * is sent, for example DEADLINE_EXCEEDED, while the handler may still use the database, so
   * `stop` waits for these too before the app closes its connections.
   */
  private readinessTimer: NodeJS.Timeout | undefined;
  private checkingReadiness = false;
  private stopping = false;
  private serving: boolean | undefined;

  private constructor(
    private readonly server: Server,
    private readonly health: HealthImplementation,
    private readonly options: GrpcServerOptions,
    /** The port actually bound, which differs from the option when that was 0. */
    readonly port: number,
    private readonly runningHandlers: Set<Promise<void>>,
  ) {}

  static async start(options: GrpcServerOptions): Promise<GrpcServer> {
    const packageDefinition = loadProtoFiles(options.protoFiles);
    const server = new Server({ 'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? defaultMaxReceiveMessageBytes });
    const runningHandlers = new Set<Promise<void>>();
    for (const service of options.services) {
      const definition = serviceDefinition(packageDefinition, service.name);
      server.addService(tolerantServiceDefinition(definition), trackedImplementation(definition, service.implementation, runningHandlers));
    }

    const serviceNames = ['', ...options.services.map((service) => service.name)];
    const health = new HealthImplementation(Object.fromEntries(serviceNames.map((name) => [name, 'NOT_SERVING' as ServingStatus])));
    health.addToServer(server);

    const healthDefinition = loadSync(healthProtoPath, protoLoaderOptions);
    new ReflectionService({ ...packageDefinition, ...healthDefinition }).addToServer(server);

    let port: number;
    try {
      port = await bind(server, options.host, options.port);
    } catch (error) {
      server.forceShutdown();
      throw error;
    }
    const started = new GrpcServer(server, health, options, port, runningHandlers);
    started.watchReadiness();
    options.logger.info({ host: options.host, port, services: options.services.map((service) => service.name) }, 'gRPC server started');
    return started;
  }

  /**
   * Reports NOT_SERVING, stops accepting calls, and waits up to the grace period for in-flight
   * calls and their handlers. Calls still open after it are cancelled.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.readinessTimer);
    this.serving = false;
    this.reportStatus('NOT_SERVING');

    const graceMs = this.options.shutdownGraceMs ?? 5000;
    const deadline = Date.now() + graceMs;
    const drained = await settlesWithin(new Promise<void>((resolve) => this.server.tryShutdown(() => resolve())), graceMs);
    if (!drained) {
      this.options.logger.warn({ port: this.port, graceMs }, 'gRPC calls still running after the grace period are cancelled');
      this.server.forceShutdown();
    }
    const handlersDone = await settlesWithin(Promise.all(this.runningHandlers), Math.max(0, deadline - Date.now()));
    if (!handlersDone) {
      this.options.logger.warn({ port: this.port, handlers: this.runningHandlers.size }, 'gRPC handlers still running after the grace period');
    }
    this.options.logger.info({ port: this.port }, 'gRPC server stopped');
  }

  private watchReadiness(): void {
    void this.checkReadiness();
    this.readinessTimer = setInterval(() => void this.checkReadiness(), this.options.healthCheckIntervalMs ?? 5000);
    this.readinessTimer.unref();
  }

  private async checkReadiness(): Promise<void> {
    if (this.checkingReadiness) return;
    this.checkingReadiness = true;
    try {
      const ready = await this.options.readiness().catch(() => false);
      // A check that finishes after stop began must not report SERVING again.
      if (!this.stopping) this.setServing(ready);
    } finally {
      this.checkingReadiness = false;
    }
  }

  private setServing(serving: boolean): void {
    if (this.serving === serving) return;
    if (this.serving !== undefined || !serving) {
      this.options.logger[serving ? 'info' : 'warn']({ port: this.port, serving }, 'gRPC health status changed');
    }
    this.serving = serving;
    this.reportStatus(serving ? 'SERVING' : 'NOT_SERVING');
  }

  private reportStatus(status: ServingStatus): void {
    this.health.setStatus('', status);
    for (const service of this.options.services) this.health.setStatus(service.name, status);
  }
}

function serviceDefinition(packageDefinition: PackageDefinition, name: string): ServiceDefinition {
  const definition = packageDefinition[name];
  if (definition === undefined || 'format' in definition) {
    throw new TypeError(`the proto files define no service ${name}`);
  }
  return definition as ServiceDefinition;
}

/** Wraps each method's request deserializer so that an undecodable message reaches the handler as MalformedRequest. */
function tolerantServiceDefinition(definition: ServiceDefinition): ServiceDefinition {
  const methods = Object.entries(definition).map(([name, method]: [string, MethodDefinition<unknown, unknown>]) => {
    const requestDeserialize = (bytes: Buffer) => {
      try {
        return method.requestDeserialize(bytes);
      } catch (error) {
        return new MalformedRequest(error instanceof Error ? error.message : 'undecodable bytes');
      }
    };
    return [name, { ...method, requestDeserialize }];
  });
  return Object.fromEntries(methods) as ServiceDefinition;
}

/**
 * Wraps each unary handler so that it counts as running until it calls back. Streaming methods,
 * which this project's services do not define, are passed through untracked.
 */
function trackedImplementation(
  definition: ServiceDefinition,
  implementation: UntypedServiceImplementation,
  runningHandlers: Set<Promise<void>>,
): UntypedServiceImplementation {
  const handlers = Object.entries(implementation).map(([name, handler]): [string, UntypedHandleCall] => {
    const method = definition[name];
    if (method === undefined || method.requestStream || method.responseStream) return [name, handler];
    const unary = handler as handleUnaryCall<unknown, unknown>;
    const tracked: handleUnaryCall<unknown, unknown> = (call, callback) => {
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => {
        finish = resolve;
      });
      runningHandlers.add(finished);
      void finished.then(() => runningHandlers.delete(finished));
      unary(call, (...response: Parameters<typeof callback>) => {
        finish();
        callback(...response);
      });
    };
    return [name, tracked];
  });
  return Object.fromEntries(handlers);
}

/** Resolves whether `promise` settles within `timeoutMs`. */
async function settlesWithin(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function bind(server: Server, host: string, port: number): Promise<number> {
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, boundPort) => {
      if (error) reject(new Error(`the gRPC server could not listen on ${address}: ${error.message}`, { cause: error }));
      else resolve(boundPort);
    });
  });
}
