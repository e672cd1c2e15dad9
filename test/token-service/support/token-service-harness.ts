import type { Consumer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';

import { ClientRegistry } from '../../../apps/token-service/src/clients/client-registry.js';
import { type NewClient } from '../../../apps/token-service/src/clients/oauth-client.js';
import {
  loadTokenServiceConfig,
  TOKEN_SERVICE_CONFIG,
  type TokenServiceConfig,
} from '../../../apps/token-service/src/config/token-service.config.js';
import { ProjectionFreshness } from '../../../apps/token-service/src/freshness/projection-freshness.js';
import { ActiveGrants } from '../../../apps/token-service/src/grants/active-grants.js';
import { GrantLastUsed } from '../../../apps/token-service/src/grants/grant-last-used.js';
import { TokenServiceModule } from '../../../apps/token-service/src/token-service.module.js';
import type { GrantEvent } from '#grant-domain/grant.events.js';
import type { RevokeReason } from '#grant-domain/revoke-reason.js';
import { encodeGrantEvent } from '#grant-events/grant-event-codec.js';
import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';
import { startHttpApp, type StartedHttpApp } from '#platform/start-http-app.js';
import { testEnvironment } from '#testing/test-apps.js';
import { testKafkaClient, uniqueName } from '#testing/test-kafka.js';
import { waitFor } from '#testing/wait-for.js';

import { TestClock } from './test-clock.js';

export const bootstrapClientId = 'bootstrap-service';
export const bootstrapClientSecret = 'test-bootstrap-secret-0123456789';

/** A port that was free a moment ago, for apps whose issuer URL must name their own port. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface StartOptions {
  databaseUrl: string;
  clock?: TestClock;
  /** Extra or overriding environment variables. */
  environment?: Record<string, string>;
  /** Listen on this port (0 picks one); the issuer stays TOKEN_ISSUER or its default. */
  port?: number;
}

/** A running token service for one test file, with helpers that speak its HTTP API. */
export class TokenServiceUnderTest {
  private constructor(
    readonly started: StartedHttpApp,
    readonly clock: TestClock,
    readonly databaseUrl: string,
  ) {}

  /**
   * Starts the token service against `databaseUrl` with a unique grant-events topic and projector
   * group, so that no other test's messages count as lag, and the bootstrap test client.
   */
  static async start(options: StartOptions): Promise<TokenServiceUnderTest> {
    const clock = options.clock ?? new TestClock();
    const environment = testEnvironment(options.databaseUrl, {
      BOOTSTRAP_CLIENT_ID: bootstrapClientId,
      BOOTSTRAP_CLIENT_SECRET: bootstrapClientSecret,
      TOKEN_KEY_PUBLISH_DELAY_SECONDS: '0',
      GRANT_EVENTS_TOPIC: uniqueName('token-grant-events'),
      GRANT_PROJECTOR_GROUP_ID: uniqueName('token-projector'),
      ...options.environment,
    });
    const config = loadTokenServiceConfig(environment);
    const started = await startHttpApp(TokenServiceModule.forRoot(config, { clock }), {
      appName: 'token-service',
      host: '127.0.0.1',
      port: options.port ?? 0,
    });
    return new TokenServiceUnderTest(started, clock, options.databaseUrl);
  }

  get url(): string {
    return this.started.url;
  }

  get config(): TokenServiceConfig {
    return this.started.app.get(TOKEN_SERVICE_CONFIG);
  }

  get registry(): ClientRegistry {
    return this.started.app.get(ClientRegistry);
  }

  get freshness(): ProjectionFreshness {
    return this.started.app.get(ProjectionFreshness);
  }

  get grantState(): ActiveGrants {
    return this.started.app.get(ActiveGrants);
  }

  /** Writes the recorded last uses now instead of at the next flush interval. */
  flushLastUses(): Promise<void> {
    return this.started.app.get(GrantLastUsed).flush();
  }

  async close(): Promise<void> {
    await this.started.app.close();
  }

  /** Registers a confidential client with offline_access and returns its id and secret. */
  async createClient(overrides: Partial<NewClient> = {}): Promise<{ clientId: string; clientSecret: string }> {
    const { client, clientSecret } = await this.registry.create({
      clientId: uniqueName('client'),
      name: 'Test client',
      type: 'confidential',
      allowedScopes: [],
      accessTokenLifetimeSeconds: 300,
      offlineIdleTimeoutSeconds: null,
      offlineMaxLifetimeSeconds: null,
      ...overrides,
    });
    return { clientId: client.clientId, clientSecret: clientSecret ?? '' };
  }

  /** POSTs a form to `path`; `basic` sends the credentials with client_secret_basic. */
  postForm(path: string, fields: Record<string, string>, basic?: { clientId: string; clientSecret: string }): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (basic) headers.authorization = basicAuthorization(basic.clientId, basic.clientSecret);
    return fetch(`${this.url}${path}`, { method: 'POST', headers, body: new URLSearchParams(fields).toString() });
  }

  /** Gets an access token of the bootstrap client with `scope` from the client_credentials grant. */
  async bootstrapAccessToken(scope: string): Promise<string> {
    const response = await this.postForm(
      '/oauth/token',
      { grant_type: 'client_credentials', scope },
      { clientId: bootstrapClientId, clientSecret: bootstrapClientSecret },
    );
    const body = (await response.json()) as { access_token?: string };
    if (response.status !== 200 || !body.access_token) throw new Error(`client_credentials failed: ${response.status} ${JSON.stringify(body)}`);
    return body.access_token;
  }

  /** POST /v1/offline-tokens as the bootstrap client (scope tokens:issue). */
  async requestOfflineToken(body: Record<string, unknown>): Promise<Response> {
    return fetch(`${this.url}/v1/offline-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await this.bootstrapAccessToken('tokens:issue')}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  async issueOfflineToken(grantId: string): Promise<{ refresh_token: string; access_token: string; scope: string; expires_in: number }> {
    const response = await this.requestOfflineToken({ grant_id: grantId });
    const body = await response.json();
    if (response.status !== 200) throw new Error(`offline-token issuance failed: ${response.status} ${JSON.stringify(body)}`);
    return body as { refresh_token: string; access_token: string; scope: string; expires_in: number };
  }

  refresh(client: { clientId: string; clientSecret: string }, refreshToken: string, extra: Record<string, string> = {}): Promise<Response> {
    return this.postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }, client);
  }

  async introspect(caller: { clientId: string; clientSecret: string }, token: string): Promise<Record<string, unknown>> {
    const response = await this.postForm('/oauth/introspect', { token }, caller);
    if (response.status !== 200) throw new Error(`introspection failed: ${response.status} ${await response.text()}`);
    return (await response.json()) as Record<string, unknown>;
  }
}

export function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

export interface GrantFixture {
  grantId: string;
  userId: string;
  clientId: string;
  scopes: string[];
  createdAt: Date;
  position: bigint;
}

/**
 * PROJECTION FIXTURES: rows written straight into the `grants` table, standing in for the
 * relay and projector, which these tests do not run.
 *
 * With `followers`, each change is also published to each follower's grant-events topic as the
 * relay would publish it, a consumer in the projector's group commits it as the projector would,
 * and the call returns once every follower's in-memory grant state has applied it. Without followers, a
 * token service learns of a row only when it reads a grant it does not know.
 */
export class GrantProjectionFixtures {
  private nextPosition = 1000n;
  private readonly followers: TokenServiceUnderTest[];
  private readonly projectorStandIns = new Map<string, Promise<Consumer>>();

  constructor(
    private readonly databaseUrl: string,
    ...followers: TokenServiceUnderTest[]
  ) {
    this.followers = followers;
  }

  async insertActiveGrant(fixture: Partial<GrantFixture> & { clientId: string }): Promise<GrantFixture> {
    const grant: GrantFixture = {
      grantId: randomUUID(),
      userId: `user-${randomUUID()}`,
      scopes: ['offline_access', 'profile', 'reports:read'],
      createdAt: new Date(),
      position: (this.nextPosition += 1n),
      ...fixture,
    };
    await this.query(
      `INSERT INTO grants (grant_id, user_id, client_id, scopes, status, created_at, updated_at, version, position)
       VALUES ($1, $2, $3, $4, 'active', $5, $5, 1, $6)`,
      [grant.grantId, grant.userId, grant.clientId, grant.scopes, grant.createdAt, grant.position.toString()],
    );
    await this.publish({
      grantId: grant.grantId,
      version: 1,
      position: grant.position,
      event: { type: 'GrantCreated', data: { ...this.eventData(grant, grant.createdAt), scopes: [...grant.scopes].sort() } },
    });
    return grant;
  }

  async revoke(grantId: string, reason: RevokeReason = 'user'): Promise<void> {
    const [row] = await this.query(
      `UPDATE grants SET status = 'revoked', revoked_at = now(), revoke_reason = $2, version = version + 1 WHERE grant_id = $1
       RETURNING user_id, client_id, scopes, version`,
      [grantId, reason],
    );
    const grant = { grantId, userId: row.user_id as string, clientId: row.client_id as string };
    await this.publish({
      grantId,
      version: row.version as number,
      position: (this.nextPosition += 1n),
      event: { type: 'GrantRevoked', data: { ...this.eventData(grant, new Date()), scopes: row.scopes as string[], reason } },
    });
  }

  async changeScopes(grantId: string, scopes: string[]): Promise<void> {
    const [before] = await this.query('SELECT scopes FROM grants WHERE grant_id = $1', [grantId]);
    const [row] = await this.query('UPDATE grants SET scopes = $2, version = version + 1 WHERE grant_id = $1 RETURNING user_id, client_id, version', [
      grantId,
      scopes,
    ]);
    const grant = { grantId, userId: row.user_id as string, clientId: row.client_id as string };
    await this.publish({
      grantId,
      version: row.version as number,
      position: (this.nextPosition += 1n),
      event: {
        type: 'GrantScopesChanged',
        data: { ...this.eventData(grant, new Date()), scopes: [...scopes].sort(), previousScopes: [...(before.scopes as string[])].sort() },
      },
    });
  }

  async row(grantId: string): Promise<{ status: string; revoke_reason: string | null } | undefined> {
    const rows = await this.query('SELECT status, revoke_reason FROM grants WHERE grant_id = $1', [grantId]);
    return rows[0] as { status: string; revoke_reason: string | null } | undefined;
  }

  async query(sql: string, parameters: unknown[] = []): Promise<Record<string, unknown>[]> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    await client.connect();
    try {
      return (await client.query(sql, parameters)).rows;
    } finally {
      await client.end();
    }
  }

  private eventData(grant: { grantId: string; userId: string; clientId: string }, occurredAt: Date) {
    return {
      grantId: grant.grantId,
      userId: grant.userId,
      clientId: grant.clientId,
      actor: { type: 'system' as const, id: 'test-fixture' },
      occurredAt: occurredAt.toISOString(),
    };
  }

  /** Stops the consumers that stand in for the projector. Call it once the test is done. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.projectorStandIns.values()].map(async (consumer) => (await consumer).disconnect()));
    this.projectorStandIns.clear();
  }

  private async publish(change: { grantId: string; version: number; position: bigint; event: GrantEvent }): Promise<void> {
    if (this.followers.length === 0) return;
    const recorded: RecordedGrantEvent = { ...change, eventId: randomUUID(), metadata: {}, recordedAt: new Date() };
    const topics = new Map(this.followers.map((follower) => [follower.config.GRANT_EVENTS_TOPIC, follower.config.GRANT_PROJECTOR_GROUP_ID]));
    const producer = testKafkaClient().producer();
    await producer.connect();
    try {
      for (const [topic, projectorGroupId] of topics) {
        await producer.send({ topic, messages: [encodeGrantEvent(recorded)] });
        await this.startProjectorStandIn(topic, projectorGroupId);
      }
    } finally {
      await producer.disconnect();
    }
    for (const follower of this.followers) {
      await waitFor(() => (follower.grantState.knownVersion(change.grantId) ?? 0) >= change.version, {
        intervalMs: 10,
        description: `grant ${change.grantId} version ${change.version} in the grant state of ${follower.url}`,
      });
    }
  }

  /**
   * Runs a consumer in the projector's group that commits every message it receives, as the
   * projector does after applying it, so that the token service does not see a projector falling behind.
   */
  private startProjectorStandIn(topic: string, groupId: string): Promise<Consumer> {
    let started = this.projectorStandIns.get(topic);
    if (!started) {
      started = (async () => {
        const consumer = testKafkaClient().consumer({ groupId });
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({ eachBatch: async () => undefined });
        return consumer;
      })();
      this.projectorStandIns.set(topic, started);
    }
    return started;
  }
}
