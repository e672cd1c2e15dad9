import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

/** An app's OpenAPI document, read and parsed once at start. */
export interface OpenApiDocument {
  /** Absolute path of the YAML file the document was read from. */
  sourcePath: string;
  /** The YAML text as written, comments included, served as /openapi.yaml. */
  yaml: string;
  /** The same document serialized as JSON, served as /openapi.json. */
  json: string;
  /** The parsed document. */
  document: Record<string, unknown>;
}

/** Injection token of the app's OpenAPI document. */
export const OPENAPI_DOCUMENT = Symbol('OPENAPI_DOCUMENT');

/** Name in the project root's package.json, which distinguishes it from the package.json of a dependency. */
const projectPackageName = 'offline-grants';

/**
 * Finds the project root: the nearest folder above this module whose package.json is named
 * offline-grants. Jest runs this module from libs/ and the compiled app from dist/libs/, and
 * both lie below the root, where the YAML files stay because the build does not copy them.
 */
export function findProjectRoot(startDirectory = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let directory = startDirectory; ; directory = path.dirname(directory)) {
    const manifest = path.join(directory, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === projectPackageName) {
      return directory;
    }
    if (path.dirname(directory) === directory) {
      throw new Error(`the project root was not found: no package.json named ${projectPackageName} above ${startDirectory}`);
    }
  }
}

/**
 * Reads and parses the OpenAPI document at `relativePath` below the project root, such as
 * `apps/grant-service/openapi/openapi.yaml`. It raises an Error naming the file when the file is
 * missing, is not valid YAML, or is not an OpenAPI 3.1 document with `paths`. A broken document
 * thus stops the app at start instead of failing the first request.
 */
export function loadOpenApiDocument(relativePath: string, projectRoot = findProjectRoot()): OpenApiDocument {
  const sourcePath = path.join(projectRoot, relativePath);
  if (!existsSync(sourcePath)) {
    throw new Error(`the OpenAPI document ${sourcePath} was not found, so restore it or copy it into the image beside dist/`);
  }
  const yaml = readFileSync(sourcePath, 'utf8');

  // uniqueKeys (the default) rejects a repeated key, which would otherwise hide the first definition.
  const parsed = parseDocument(yaml, { prettyErrors: true, uniqueKeys: true });
  if (parsed.errors.length > 0) {
    throw new Error(`the OpenAPI document ${sourcePath} is not valid YAML: ${parsed.errors[0].message}`);
  }
  const document: unknown = parsed.toJS();
  if (!isOpenApi31(document)) {
    throw new Error(`the OpenAPI document ${sourcePath} must be a mapping with openapi: 3.1.x and a paths mapping`);
  }

  return { sourcePath, yaml, json: JSON.stringify(document), document };
}

function isOpenApi31(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { openapi, paths } = value as Record<string, unknown>;
  return typeof openapi === 'string' && /^3\.1\.\d+$/.test(openapi) && typeof paths === 'object' && paths !== null && !Array.isArray(paths);
}
