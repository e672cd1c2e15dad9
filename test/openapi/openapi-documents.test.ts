import { validate } from '@readme/openapi-parser';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { findProjectRoot } from '#platform/openapi/openapi-document.js';

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

  it('reports misspelt keywords and invalid values', async () => {
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

  it.each(apps)('%s names and secures every operation', (app) => {
    const { document } = loadAppDocument(app);
    const operations = Object.values(document.paths as Record<string, Record<string, { operationId?: string; security?: unknown }>>).flatMap(
      (item) => Object.entries(item).filter(([key]) => ['get', 'post', 'put', 'patch', 'delete'].includes(key)).map(([, operation]) => operation),
    );

    const ids = operations.map((operation) => operation.operationId);

    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(operations.filter((operation) => !Array.isArray(operation.security))).toEqual([]);
  });

  it('keeps shared components identical', () => {
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

describe('when the container image is built', () => {
  it.each(apps)('copies the OpenAPI document of %s into the image', (app) => {
    const dockerfile = readFileSync(path.join(findProjectRoot(), 'Dockerfile'), 'utf8');
    const folder = path.dirname(documentPaths[app]);

    expect(dockerfile).toContain(`COPY --from=build /app/${folder} ${folder}\n`);
  });
});
