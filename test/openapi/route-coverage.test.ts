import type { DynamicModule } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { parse } from 'yaml';

import { loadGrantProjectorConfig } from '../../apps/grant-projector/src/config/grant-projector.config.js';
import { GrantProjectorModule } from '../../apps/grant-projector/src/grant-projector.module.js';
import { loadGrantServiceConfig } from '../../apps/grant-service/src/config/grant-service.config.js';
import { GrantServiceModule } from '../../apps/grant-service/src/grant-service.module.js';
import { loadTokenServiceConfig } from '../../apps/token-service/src/config/token-service.config.js';
import { TokenServiceModule } from '../../apps/token-service/src/token-service.module.js';
import type { StartedHttpApp } from '#platform/start-http-app.js';
import { startTestApp, testEnvironment } from '#testing/test-apps.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';
import { uniqueName } from '#testing/test-kafka.js';
import { waitFor } from '#testing/wait-for.js';

import {
  type AppName,
  documentedOperations,
  fetchResponse,
  loadAppDocument,
  OpenApiContract,
  type RegisteredRoute,
  RegisteredRoutes,
  RouteRecordingModule,
  toPathTemplate,
} from './openapi-kit.js';

/** Each app's root module for a test database, with unique Kafka names so that no other test's messages reach it. */
const appModules: Record<AppName, (databaseUrl: string) => DynamicModule> = {
  'grant-service': (databaseUrl) =>
    GrantServiceModule.forRoot(loadGrantServiceConfig(testEnvironment(databaseUrl, { RELAY_ENABLED: 'false', GRANT_EVENTS_TOPIC: uniqueName('openapi-grants') }))),
  'token-service': (databaseUrl) =>
    TokenServiceModule.forRoot(
      loadTokenServiceConfig(
        testEnvironment(databaseUrl, { GRANT_EVENTS_TOPIC: uniqueName('openapi-token'), GRANT_PROJECTOR_GROUP_ID: uniqueName('openapi-token-projector') }),
      ),
    ),
  'grant-projector': (databaseUrl) =>
    GrantProjectorModule.forRoot(
      loadGrantProjectorConfig(
        testEnvironment(databaseUrl, {
          GRANT_EVENTS_TOPIC: uniqueName('openapi-projector'),
          GRANT_EVENTS_DLQ_TOPIC: uniqueName('openapi-projector-dlq'),
          GRANT_PROJECTOR_GROUP_ID: uniqueName('openapi-projector-group'),
        }),
      ),
    ),
};

/** Fastify adds HEAD to every GET route, and neither HEAD nor OPTIONS is an operation of the API. */
const implicitMethods = new Set(['HEAD', 'OPTIONS']);

function operationOf(route: RegisteredRoute): string {
  return `${route.method} ${toPathTemplate(route.path)}`;
}

/** Replaces each `:name` parameter with a UUID, which every path parameter of these apps accepts. */
function concretePath(fastifyPath: string): string {
  return fastifyPath.replace(/:([A-Za-z0-9_]+)/g, () => randomUUID());
}

describe.each(Object.keys(appModules) as AppName[])('when %s runs', (app) => {
  let database: TestDatabase;
  let started: StartedHttpApp;
  let routes: RegisteredRoute[];
  let documented: string[];
  let contract: OpenApiContract;

  beforeAll(async () => {
    database = await createTestDatabase(`openapi_${app}`);
    started = await startTestApp(app, RouteRecordingModule.around(appModules[app](database.url)));
    routes = started.app.get(RegisteredRoutes).routes.filter((route) => !implicitMethods.has(route.method));
    const { document } = loadAppDocument(app);
    documented = documentedOperations(document);
    contract = await OpenApiContract.of(document);
  });

  afterAll(async () => {
    await started?.app.close();
    await database?.drop();
  });

  it('registers every documented operation', () => {
    const registered = new Set(routes.map(operationOf));

    expect(documented.filter((operation) => !registered.has(operation))).toEqual([]);
  });

  // The grant service registers handlers that only respond 405 with `Allow` to methods a grant
  // path does not support, which Fastify alone would answer with 404. They are not operations,
  // so the document mentions them in the path item's description instead.
  it('documents every route except 405 stand-ins', async () => {
    const undocumented = routes.filter((route) => !documented.includes(operationOf(route)));

    for (const route of undocumented) {
      const template = toPathTemplate(route.path);
      const documentedMethods = documented.filter((operation) => operation.endsWith(` ${template}`)).map((operation) => operation.split(' ')[0]);
      const response = await fetch(`${started.url}${concretePath(route.path)}`, { method: route.method });

      expect({ route: operationOf(route), status: response.status }).toEqual({ route: operationOf(route), status: 405 });
      expect(new Set(response.headers.get('allow')?.split(', '))).toEqual(new Set(documentedMethods));
      expect(documentedMethods.length).toBeGreaterThan(0);
    }
  });

  it('serves its document as JSON and as YAML', async () => {
    const { document, yaml } = loadAppDocument(app);

    const json = await fetchResponse(`${started.url}/openapi.json`);
    const text = await fetchResponse(`${started.url}/openapi.yaml`);

    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toMatch(/^application\/vnd\.oai\.openapi\+json; *version="?3\.1"?(;|$)/);
    expect(json.body).toEqual(document);
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toMatch(/^application\/vnd\.oai\.openapi; *version="?3\.1"?(;|$)/);
    expect(text.body).toBe(yaml);
    expect(parse(text.body as string)).toEqual(document);
    expect(contract.violations('GET', '/openapi.json', json)).toEqual([]);
    expect(contract.violations('GET', '/openapi.yaml', text)).toEqual([]);
  });

  it('answers health and metrics as documented', async () => {
    const live = await fetchResponse(`${started.url}/health/live`);
    // The readiness of a freshly started app may still be 503 while its consumer joins the group.
    const ready = await waitFor(async () => {
      const response = await fetchResponse(`${started.url}/health/ready`);
      return response.status === 200 ? response : undefined;
    }, { description: `${app} to be ready` });
    const metrics = await fetchResponse(`${started.url}/metrics`);

    expect(contract.violations('GET', '/health/live', live)).toEqual([]);
    expect(contract.violations('GET', '/health/ready', ready)).toEqual([]);
    expect(contract.violations('GET', '/metrics', metrics)).toEqual([]);
    expect(live.status).toBe(200);
    expect(metrics.status).toBe(200);
  });
});
