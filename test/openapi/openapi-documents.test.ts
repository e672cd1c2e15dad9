import { validate } from '@readme/openapi-parser';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { findProjectRoot, loadOpenApiDocument } from '#platform/openapi/openapi-document.js';

import { type AppName, documentPaths, loadAppDocument, OpenApiContract } from './openapi-kit.js';

const apps = Object.keys(documentPaths) as AppName[];

type ValidatedDocument = Parameters<typeof validate>[0];

describe('when the OpenAPI documents are validated', () => {
  it.each(apps)('%s has a valid OpenAPI 3.1 document', async (app) => {
    const { document } = loadAppDocument(app);

    const result = await validate(structuredClone(document) as ValidatedDocument);

    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.specification).toBe('OpenAPI');
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
  });

  it('rejects a response without a description', async () => {
    const broken = structuredClone(loadAppDocument('grant-projector').document) as {
      paths: Record<string, { get: { responses: Record<string, unknown> } }>;
    };
    broken.paths['/metrics'].get.responses['200'] = { content: { 'text/plain': { schema: { type: 'string' } } } };

    const result = await validate(broken as unknown as ValidatedDocument);

    expect(result.valid ? [] : result.errors.map((error) => error.message)).toEqual([expect.stringContaining("required property 'description'")]);
  });

  it('rejects a reference to a missing schema', async () => {
    const broken = structuredClone(loadAppDocument('grant-projector').document) as {
      paths: Record<string, { get: { responses: Record<string, { content: Record<string, { schema: object }> }> } }>;
    };
    broken.paths['/health/live'].get.responses['200'].content['application/json'].schema = { $ref: '#/components/schemas/Missing' };

    const result = await validate(broken as unknown as ValidatedDocument);

    expect(result.valid ? [] : result.errors.map((error) => error.message)).toEqual([expect.stringContaining('#/components/schemas/Missing')]);
  });

  it.each(apps)('%s has only valid JSON Schema 2020-12 schemas', async (app) => {
    const contract = await OpenApiContract.of(loadAppDocument(app).document);

    expect(contract.schemaFailures()).toEqual([]);
  });

  it('reports a schema with a misspelt keyword or an invalid value', async () => {
    const broken = structuredClone(loadAppDocument('grant-service').document) as {
      components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>> }> };
    };
    broken.components.schemas.Grant.properties.version.minimum = 'one';
    broken.components.schemas.Grant.properties.status.enumm = ['active'];

    const contract = await OpenApiContract.of(broken as unknown as Record<string, unknown>);

    expect(contract.schemaFailures()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^components\/schemas\/Grant: .*minimum/), expect.stringContaining('enumm')]),
    );
  });

  it.each(apps)('%s gives every operation a unique operationId and a security list', (app) => {
    const { document } = loadAppDocument(app);
    const operations = Object.values(document.paths as Record<string, Record<string, { operationId?: string; security?: unknown }>>).flatMap(
      (item) => Object.entries(item).filter(([key]) => ['get', 'post', 'put', 'patch', 'delete'].includes(key)).map(([, operation]) => operation),
    );

    const ids = operations.map((operation) => operation.operationId);

    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(operations.filter((operation) => !Array.isArray(operation.security))).toEqual([]);
  });

  it('keeps the components that the apps share identical in every document', () => {
    const schemasOf = (app: AppName) => (loadAppDocument(app).document.components as { schemas: Record<string, unknown> }).schemas;
    const grantService = schemasOf('grant-service');
    const tokenService = schemasOf('token-service');
    const projector = schemasOf('grant-projector');

    for (const name of ['Problem', 'HealthIndicator', 'HealthCheckResult', 'ScopeToken']) {
      expect(tokenService[name]).toEqual(grantService[name]);
    }
    for (const name of ['HealthIndicator', 'HealthCheckResult']) {
      expect(projector[name]).toEqual(grantService[name]);
    }
  });
});

describe('when an app loads its OpenAPI document', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'openapi-'));
    mkdirSync(path.join(root, 'docs'));
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('finds the project root above the module', () => {
    expect(findProjectRoot()).toBe(path.resolve(import.meta.dirname, '..', '..'));
  });

  it('keeps the YAML text and serves the same document as JSON', () => {
    writeFileSync(path.join(root, 'docs', 'api.yaml'), '# A comment.\nopenapi: 3.1.0\ninfo: {title: t, version: "1"}\npaths: {}\n');

    const loaded = loadOpenApiDocument('docs/api.yaml', root);

    expect(loaded.yaml).toContain('# A comment.');
    expect(JSON.parse(loaded.json)).toEqual({ openapi: '3.1.0', info: { title: 't', version: '1' }, paths: {} });
  });

  it('rejects a missing file naming its path', () => {
    expect(() => loadOpenApiDocument('docs/missing.yaml', root)).toThrow(`${path.join(root, 'docs', 'missing.yaml')} was not found`);
  });

  it('rejects invalid YAML', () => {
    writeFileSync(path.join(root, 'docs', 'api.yaml'), 'openapi: 3.1.0\npaths: {\n');

    expect(() => loadOpenApiDocument('docs/api.yaml', root)).toThrow('is not valid YAML');
  });

  it('rejects a repeated key', () => {
    writeFileSync(path.join(root, 'docs', 'api.yaml'), 'openapi: 3.1.0\npaths: {}\npaths: {}\n');

    expect(() => loadOpenApiDocument('docs/api.yaml', root)).toThrow('is not valid YAML');
  });

  it.each([
    ['an OpenAPI 3.0 document', 'openapi: 3.0.3\npaths: {}\n'],
    ['a document without paths', 'openapi: 3.1.0\ninfo: {title: t, version: "1"}\n'],
    ['a list', '- openapi: 3.1.0\n'],
  ])('rejects %s', (_case, text) => {
    writeFileSync(path.join(root, 'docs', 'api.yaml'), text);

    expect(() => loadOpenApiDocument('docs/api.yaml', root)).toThrow('must be a mapping with openapi: 3.1.x and a paths mapping');
  });
});
