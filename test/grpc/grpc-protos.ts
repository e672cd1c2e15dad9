// Clients for the standard services beside the apps' own: health checking and server reflection.
import { type ClientDuplexStream, credentials } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import path from 'node:path';

import { serviceClientConstructor } from '#grpc/grpc-client.js';
import { protoLoaderOptions } from '#grpc/proto-files.js';

export { protoPath as healthProtoPath } from 'grpc-health-check';

/** reflection.proto (grpc.reflection.v1) as shipped inside @grpc/reflection. */
const reflectionProtoPath = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@grpc/reflection')),
  '../proto/grpc/reflection/v1/reflection.proto',
);

interface ReflectionResponse {
  list_services_response?: { service: Array<{ name: string }> };
}

/** Asks the server reflection service on 127.0.0.1:`port` for the names of every service it exposes. */
export function listReflectedServices(port: number): Promise<string[]> {
  const Reflection = serviceClientConstructor(loadSync(reflectionProtoPath, protoLoaderOptions), 'grpc.reflection.v1.ServerReflection');
  const client = new Reflection(`127.0.0.1:${port}`, credentials.createInsecure());
  const stream = (client as unknown as { ServerReflectionInfo(): ClientDuplexStream<object, ReflectionResponse> }).ServerReflectionInfo();

  return new Promise<string[]>((resolve, reject) => {
    stream.on('data', (response: ReflectionResponse) => {
      resolve(response.list_services_response?.service.map((service) => service.name) ?? []);
      stream.end();
    });
    stream.on('error', reject);
    stream.write({ list_services: '' });
  }).finally(() => client.close());
}
