// Tools for checking an app against its OpenAPI document: the routes Fastify registered, the
// document's operations, and live responses validated against the documented schemas.
import { type DynamicModule, Injectable, Module } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { dereference } from '@readme/openapi-parser';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

import { loadOpenApiDocument, type OpenApiDocument } from '#platform/openapi/openapi-document.js';

/** The HTTP apps, each with the path of its OpenAPI document below the project root. */
export const documentPaths = {
  'grant-service': 'apps/grant-service/openapi/openapi.yaml',
  'token-service': 'apps/token-service/openapi/openapi.yaml',
  'grant-projector': 'apps/grant-projector/openapi/openapi.yaml',
} as const;

export type AppName = keyof typeof documentPaths;

export function loadAppDocument(app: AppName): OpenApiDocument {
  return loadOpenApiDocument(documentPaths[app]);
}

/** One route as Fastify registered it, such as `GET /v1/grants/:grant_id`. */
export interface RegisteredRoute {
  method: string;
  /** The Fastify path, with `:name` parameters. */
  path: string;
}

/**
 * Records every route that Fastify registers. Nest builds providers before it registers the
 * routes, and both happen before `listen`, so the onRoute hook added here receives every route.
 */
@Injectable()
export class RegisteredRoutes {
  readonly routes: RegisteredRoute[] = [];

  constructor(adapterHost: HttpAdapterHost) {
    const fastify = adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) this.routes.push({ method: method.toUpperCase(), path: route.url });
    });
  }
}

@Module({})
export class RouteRecordingModule {
  /** Wraps an app's root module so that the started app records its routes in RegisteredRoutes. */
  static around(appModule: DynamicModule): DynamicModule {
    return { module: RouteRecordingModule, imports: [appModule], providers: [RegisteredRoutes] };
  }
}

/** Converts a Fastify path (`/v1/grants/:grant_id`) to an OpenAPI path template (`/v1/grants/{grant_id}`). */
export function toPathTemplate(fastifyPath: string): string {
  return fastifyPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** Methods that an OpenAPI path item can hold, in lower case as the document spells them. */
const operationMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Returns every documented operation as `METHOD /path/{template}`, sorted. */
export function documentedOperations(document: Record<string, unknown>): string[] {
  const paths = document.paths as Record<string, Record<string, unknown>>;
  return Object.entries(paths)
    .flatMap(([path, item]) => operationMethods.filter((method) => item[method] !== undefined).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

/** A response as the tests received it; `body` is the parsed JSON, the text, or undefined when empty. */
export interface LiveResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Fetches `url` and parses a JSON body (any `+json` media type included), else keeps the text. */
export async function fetchResponse(url: string, init?: RequestInit): Promise<LiveResponse> {
  const response = await fetch(url, init);
  const text = await response.text();
  const contentType = response.headers.get('content-type') ?? '';
  let body: unknown = text;
  if (text === '') body = undefined;
  else if (/^application\/([a-z0-9.+-]+\+)?json\b/i.test(contentType)) body = JSON.parse(text);
  return { status: response.status, headers: response.headers, body };
}

interface ResponseSpec {
  headers?: Record<string, { schema?: object }>;
  content?: Record<string, { schema?: object }>;
}

/**
 * Validates live responses against the response schemas of one OpenAPI document, with $refs
 * resolved and JSON Schema 2020-12 (the dialect of OpenAPI 3.1) as ajv implements it.
 */
export class OpenApiContract {
  private readonly ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    // Problem enums narrow `code` in an allOf branch without repeating `type`. A oneOf branch
    // may require a property that is defined beside it. Both are valid JSON Schema.
    strictTypes: false,
    strictRequired: false,
  });
  private readonly validators = new Map<object, ValidateFunction>();

  private constructor(readonly document: Record<string, unknown>) {
    (addFormats as unknown as (ajv: Ajv2020) => void)(this.ajv);
  }

  /** Resolves every $ref of a copy of `document`. */
  static async of(document: Record<string, unknown>): Promise<OpenApiContract> {
    const resolved = await dereference(structuredClone(document) as Parameters<typeof dereference>[0]);
    return new OpenApiContract(resolved as unknown as Record<string, unknown>);
  }

  /**
   * Lists how `response` departs from the documented response of `method pathTemplate`: an
   * undocumented status or media type, a body that fails the schema, or a documented header
   * whose value fails its schema. An empty list means the response matches.
   */
  violations(method: string, pathTemplate: string, response: LiveResponse): string[] {
    const operation = this.operation(method, pathTemplate);
    const responses = operation.responses as Record<string, ResponseSpec>;
    const spec = responses[String(response.status)] ?? responses.default;
    if (spec === undefined) return [`${method} ${pathTemplate} does not document status ${response.status}`];

    const problems: string[] = [];
    for (const [name, header] of Object.entries(spec.headers ?? {})) {
      const value = response.headers.get(name);
      if (value === null || header.schema === undefined) continue;
      const typed = (header.schema as { type?: unknown }).type === 'integer' ? Number(value) : value;
      problems.push(...this.check(header.schema, typed, `header ${name}`));
    }

    if (spec.content === undefined) {
      if (response.body !== undefined) problems.push(`status ${response.status} documents no body, but the response has one`);
      return problems;
    }
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    const media = spec.content[mediaType];
    if (media === undefined) {
      return [...problems, `status ${response.status} documents ${Object.keys(spec.content).join(', ')}, not ${mediaType || 'a missing Content-Type'}`];
    }
    if (media.schema !== undefined) problems.push(...this.check(media.schema, response.body, 'body'));
    return problems;
  }

  /**
   * Compiles every schema of the document (components, parameters, headers, request and response
   * bodies) and lists the ones that are not valid JSON Schema 2020-12, such as a misspelt keyword
   * or format. The OpenAPI validator does not check schema contents, because OpenAPI 3.1 leaves
   * them to the JSON Schema dialect.
   */
  schemaFailures(): string[] {
    const failures: string[] = [];
    for (const [location, schema] of schemasOf(this.document)) {
      try {
        this.ajv.compile(schema);
      } catch (error) {
        failures.push(`${location}: ${(error as Error).message}`);
      }
    }
    return failures;
  }

  /** Returns the operation object, or raises an Error naming the missing method and path. */
  operation(method: string, pathTemplate: string): Record<string, unknown> {
    const item = (this.document.paths as Record<string, Record<string, unknown>>)[pathTemplate];
    const operation = item?.[method.toLowerCase()];
    if (operation === undefined) throw new Error(`the document has no operation ${method} ${pathTemplate}`);
    return operation as Record<string, unknown>;
  }

  /** Returns the resolved component schema `name`. */
  schema(name: string): object {
    const schemas = (this.document.components as { schemas: Record<string, object> }).schemas;
    const schema = schemas[name];
    if (schema === undefined) throw new Error(`the document has no component schema ${name}`);
    return schema;
  }

  private check(schema: object, value: unknown, label: string): string[] {
    let validate = this.validators.get(schema);
    if (validate === undefined) {
      validate = this.ajv.compile(schema);
      this.validators.set(schema, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map((error: ErrorObject) => `${label}${error.instancePath} ${error.message} ${JSON.stringify(error.params)}`);
  }
}

/** Lists each schema of a dereferenced document with its JSON Pointer-like location. */
function schemasOf(document: Record<string, unknown>): Array<[string, object]> {
  const found: Array<[string, object]> = [];
  const components = (document.components ?? {}) as { schemas?: Record<string, object> };
  for (const [name, schema] of Object.entries(components.schemas ?? {})) found.push([`components/schemas/${name}`, schema]);

  const withSchemas = (location: string, entries: Record<string, { schema?: object }> | undefined) => {
    for (const [name, entry] of Object.entries(entries ?? {})) {
      if (entry.schema !== undefined) found.push([`${location}/${name}`, entry.schema]);
    }
  };
  for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, unknown>>)) {
    const pathParameters = (item.parameters ?? []) as Array<{ name: string; schema?: object }>;
    for (const parameter of pathParameters) if (parameter.schema) found.push([`${path}/parameters/${parameter.name}`, parameter.schema]);
    for (const method of operationMethods) {
      const operation = item[method] as
        | { parameters?: Array<{ name: string; schema?: object }>; requestBody?: { content?: Record<string, { schema?: object }> }; responses?: Record<string, ResponseSpec> }
        | undefined;
      if (operation === undefined) continue;
      const at = `${method.toUpperCase()} ${path}`;
      for (const parameter of operation.parameters ?? []) if (parameter.schema) found.push([`${at} parameter ${parameter.name}`, parameter.schema]);
      withSchemas(`${at} request`, operation.requestBody?.content);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        withSchemas(`${at} ${status} header`, response.headers);
        withSchemas(`${at} ${status}`, response.content);
      }
    }
  }
  return found;
}
