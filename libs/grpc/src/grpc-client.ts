import { type ChannelOptions, type Client, credentials, type GrpcObject, loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';

import { loadProtoFiles } from './proto-files.js';

/** Returns the generated client class of `serviceName`, such as `grpc.health.v1.Health`, from a loaded package definition. */
export function serviceClientConstructor(definition: PackageDefinition, serviceName: string): ServiceClientConstructor {
  let current: unknown = loadPackageDefinition(definition);
  for (const part of serviceName.split('.')) current = (current as GrpcObject | undefined)?.[part];
  if (typeof current !== 'function') throw new TypeError(`the package definition has no service ${serviceName}`);
  return current as ServiceClientConstructor;
}

/**
 * Connects a plaintext client to one of this project's services, loaded from its proto file with
 * the servers' loader options. Tests and benchmarks use it, for example
 * `grpcServiceClient(tokensProtoFile, tokenServiceName, '127.0.0.1:50052')`.
 */
export function grpcServiceClient(protoFile: string, serviceName: string, address: string, options: ChannelOptions = {}): Client {
  const Service = serviceClientConstructor(loadProtoFiles([protoFile]), serviceName);
  return new Service(address, credentials.createInsecure(), options);
}
