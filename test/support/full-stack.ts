import net from 'node:net';

import { loadGrantProjectorConfig } from '../../apps/grant-projector/src/config/grant-projector.config.js';
import { GrantProjectorModule } from '../../apps/grant-projector/src/grant-projector.module.js';
import { loadGrantServiceConfig } from '../../apps/grant-service/src/config/grant-service.config.js';
import { GrantServiceModule } from '../../apps/grant-service/src/grant-service.module.js';
import { loadTokenServiceConfig } from '../../apps/token-service/src/config/token-service.config.js';
import { TokenServiceModule } from '../../apps/token-service/src/token-service.module.js';
import { startHttpApp, type StartedHttpApp } from '#platform/start-http-app.js';
import { testEnvironment } from '#testing/test-apps.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';
import { uniqueName } from '#testing/test-kafka.js';

export const bootstrapClient = { clientId: 'bootstrap-service', clientSecret: 'full-stack-bootstrap-secret-0123' };

/** A port that was free a moment ago; the token service's issuer must name its port before it listens. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The three apps in this process against a fresh database and a topic and consumer groups of their
 * own, wired to each other as `npm start` wires them.
 */
export class FullStack {
  private constructor(
    readonly database: TestDatabase,
    readonly topic: string,
    readonly grantService: StartedHttpApp,
    readonly tokenService: StartedHttpApp,
    readonly projector: StartedHttpApp,
  ) {}

  static async start(label: string, options: { grantServiceEnvironment?: Record<string, string> } = {}): Promise<FullStack> {
    const database = await createTestDatabase(label);
    const topic = uniqueName(`${label}-events`);
    const [grantPort, tokenPort] = [await freePort(), await freePort()];
    const tokenUrl = `http://127.0.0.1:${tokenPort}`;
    const grantUrl = `http://127.0.0.1:${grantPort}`;
    const projectorGroup = uniqueName(`${label}-projector`);
    const shared = testEnvironment(database.url, { GRANT_EVENTS_TOPIC: topic, GRANT_EVENTS_DLQ_TOPIC: `${topic}.dlq` });

    const tokenService = await startHttpApp(
      TokenServiceModule.forRoot(
        loadTokenServiceConfig({
          ...shared,
          TOKEN_ISSUER: tokenUrl,
          GRANT_SERVICE_URL: grantUrl,
          BOOTSTRAP_CLIENT_ID: bootstrapClient.clientId,
          BOOTSTRAP_CLIENT_SECRET: bootstrapClient.clientSecret,
          TOKEN_KEY_PUBLISH_DELAY_SECONDS: '0',
          GRANT_PROJECTOR_GROUP_ID: projectorGroup,
        }),
      ),
      { appName: 'token-service', host: '127.0.0.1', port: tokenPort },
    );
    const grantService = await startHttpApp(
      GrantServiceModule.forRoot(
        loadGrantServiceConfig({
          ...shared,
          GRANT_API_JWKS_URL: `${tokenUrl}/.well-known/jwks.json`,
          GRANT_API_ISSUER: tokenUrl,
          ...options.grantServiceEnvironment,
        }),
      ),
      { appName: 'grant-service', host: '127.0.0.1', port: grantPort },
    );
    const projector = await startHttpApp(
      GrantProjectorModule.forRoot(loadGrantProjectorConfig({ ...shared, GRANT_PROJECTOR_GROUP_ID: projectorGroup })),
      { appName: 'grant-projector', host: '127.0.0.1', port: 0 },
    );
    return new FullStack(database, topic, grantService, tokenService, projector);
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.projector.app.close(), this.grantService.app.close(), this.tokenService.app.close()]);
    await this.database.drop();
  }

  /** POSTs a form to the token service, authenticating with client_secret_basic. */
  postTokenForm(path: string, fields: Record<string, string>, client: { clientId: string; clientSecret: string }): Promise<Response> {
    const credentials = Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64');
    return fetch(`${this.tokenService.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Basic ${credentials}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** Gets an access token of the bootstrap client for `scope`. */
  async serviceToken(scope: string): Promise<string> {
    const response = await this.postTokenForm('/oauth/token', { grant_type: 'client_credentials', scope }, bootstrapClient);
    const body = (await response.json()) as { access_token?: string };
    if (!body.access_token) throw new Error(`client_credentials failed with ${response.status}: ${JSON.stringify(body)}`);
    return body.access_token;
  }

  /** Calls the grant or token service's JSON API with a bootstrap access token for `scope`. */
  async callJson(app: 'grant' | 'token', method: string, path: string, scope: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const base = app === 'grant' ? this.grantService.url : this.tokenService.url;
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await this.serviceToken(scope)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  /** Registers a confidential client through the token service's admin API. */
  async registerClient(name: string): Promise<{ clientId: string; clientSecret: string }> {
    const clientId = uniqueName(name);
    const { status, body } = await this.callJson('token', 'POST', '/v1/clients', 'clients:admin', {
      client_id: clientId,
      name,
      type: 'confidential',
    });
    if (status !== 201) throw new Error(`client registration failed with ${status}: ${JSON.stringify(body)}`);
    return { clientId, clientSecret: body.client_secret as string };
  }
}
