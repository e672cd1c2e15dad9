import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The grant API, relative to the proto root. */
export const grantsProtoFile = 'grants/v1/grants.proto';

/** The token API, relative to the proto root. */
export const tokensProtoFile = 'tokens/v1/tokens.proto';

/** Fully qualified service names, as gRPC paths and the health and reflection services name them. */
export const grantServiceName = 'offline_grants.grants.v1.GrantService';
export const tokenServiceName = 'offline_grants.tokens.v1.TokenService';

/**
 * Loader options of the servers, the tests and the benchmarks: field names as written
 * (snake_case), 64-bit integers as decimal strings so that positions above 2^53 stay exact, and
 * every unset scalar at its proto3 default.
 */
export const protoLoaderOptions: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

let cachedRoot: string | undefined;

/**
 * Returns the absolute path of the repository's `proto` folder. It walks up from this file, so
 * it finds the folder both from the sources (Jest) and from the compiled `dist/libs/grpc/src`.
 * Raises an Error naming the start folder when no parent contains `proto/grants/v1/grants.proto`.
 */
export function protoRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let directory = start; ; directory = path.dirname(directory)) {
    const candidate = path.join(directory, 'proto');
    if (existsSync(path.join(candidate, grantsProtoFile))) {
      cachedRoot = candidate;
      return candidate;
    }
    if (path.dirname(directory) === directory) {
      throw new Error(`no proto folder with ${grantsProtoFile} was found in ${start} or any parent folder; ship proto/ beside dist/`);
    }
  }
}

/** Returns the absolute path of a proto file given relative to the proto root, such as `tokensProtoFile`. */
export function protoFilePath(relativePath: string): string {
  return path.join(protoRoot(), relativePath);
}

/** Loads proto files, given relative to the proto root, with the project's loader options. */
export function loadProtoFiles(relativePaths: readonly string[]): PackageDefinition {
  return loadSync([...relativePaths], { ...protoLoaderOptions, includeDirs: [protoRoot()] });
}
