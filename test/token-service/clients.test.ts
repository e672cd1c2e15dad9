import { DataSource } from 'typeorm';

import { dataSourceOptions } from '#persistence/data-source-options.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';

import { ClientRegistry } from '../../apps/token-service/src/clients/client-registry.js';
import { runClientCommand } from '../../apps/token-service/src/clients/client.cli.js';
import { systemClock } from '../../apps/token-service/src/common/clock.js';

import { bootstrapClientId, bootstrapClientSecret, TokenServiceUnderTest } from './support/token-service-harness.js';

describe('when clients are registered and authenticate', () => {
  let database: TestDatabase;
  let service: TokenServiceUnderTest;
  let adminToken: string;

  beforeAll(async () => {
    database = await createTestDatabase('token_clients');
    service = await TokenServiceUnderTest.start({ databaseUrl: database.url });
    adminToken = await service.bootstrapAccessToken('clients:admin');
  });

  afterAll(async () => {
    await service?.close();
    await database?.drop();
  });

  function admin(method: string, path: string, body?: unknown, token = adminToken): Promise<Response> {
    return fetch(`${service.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  describe('when an administrator uses /v1/clients', () => {
    it('creates a client, shows its secret once, and the secret authenticates', async () => {
      const created = await admin('POST', '/v1/clients', {
        name: 'Reporting service',
        scopes: ['reports:read', 'reports:read', 'reports:write'],
        offline_idle_timeout_seconds: 86_400,
      });
      expect(created.status).toBe(201);
      const body = (await created.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        name: 'Reporting service',
        type: 'confidential',
        scopes: ['reports:read', 'reports:write'],
        access_token_lifetime_seconds: 300,
        offline_idle_timeout_seconds: 86_400,
        offline_max_lifetime_seconds: null,
      });
      expect(typeof body.client_secret).toBe('string');

      const fetched = (await (await admin('GET', `/v1/clients/${body.client_id as string}`)).json()) as Record<string, unknown>;
      expect(fetched.client_secret).toBeUndefined();
      expect(fetched.client_id).toBe(body.client_id);

      const stored = (await service.registry.get(body.client_id as string)).secretHash!;
      expect(stored).toMatch(/^scrypt\$16384\$8\$1\$/);
      expect(stored).not.toContain(body.client_secret as string);

      const token = await service.postForm(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { clientId: body.client_id as string, clientSecret: body.client_secret as string },
      );
      expect(token.status).toBe(200);
      expect(((await token.json()) as { scope: string }).scope).toBe('reports:read reports:write');
    });

    it('lists clients page by page and deletes one', async () => {
      for (const name of ['page-a', 'page-b', 'page-c']) {
        expect((await admin('POST', '/v1/clients', { client_id: `zz-${name}`, name })).status).toBe(201);
      }
      const first = (await (await admin('GET', '/v1/clients?limit=2')).json()) as { items: Array<{ client_id: string }>; next_cursor: string };
      expect(first.items).toHaveLength(2);
      const ids: string[] = first.items.map((item) => item.client_id);
      let cursor: string | null = first.next_cursor;
      while (cursor) {
        const page = (await (await admin('GET', `/v1/clients?limit=2&cursor=${cursor}`)).json()) as {
          items: Array<{ client_id: string }>;
          next_cursor: string | null;
        };
        ids.push(...page.items.map((item) => item.client_id));
        cursor = page.next_cursor;
      }
      expect(ids).toEqual([...ids].sort());
      expect(ids).toEqual(expect.arrayContaining([bootstrapClientId, 'zz-page-a', 'zz-page-b', 'zz-page-c']));

      expect((await admin('DELETE', '/v1/clients/zz-page-b')).status).toBe(204);
      const gone = await admin('GET', '/v1/clients/zz-page-b');
      expect(gone.status).toBe(404);
      expect(await gone.json()).toMatchObject({ code: 'client.not_found', field: 'client_id' });
    });

    it.each([
      ['a missing name', { scopes: ['a'] }, 'name'],
      ['a scope with a space', { name: 'x', scopes: ['a b'] }, 'scopes'],
      ['an unknown type', { name: 'x', type: 'trusted' }, 'type'],
      ['a zero lifetime', { name: 'x', access_token_lifetime_seconds: 0 }, 'access_token_lifetime_seconds'],
      ['a fractional idle timeout', { name: 'x', offline_idle_timeout_seconds: 1.5 }, 'offline_idle_timeout_seconds'],
      ['an unknown field', { name: 'x', secret: 'mine' }, 'secret'],
      ['a client id with a space', { name: 'x', client_id: 'a b' }, 'client_id'],
    ])('rejects %s with 400 naming the field', async (_case, body, field) => {
      const response = await admin('POST', '/v1/clients', body);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(await response.json()).toMatchObject({ status: 400, code: 'client.invalid_input', field });
    });

    it('rejects conflicts, forms and outsiders', async () => {
      await admin('POST', '/v1/clients', { client_id: 'taken', name: 'First' });
      const taken = await admin('POST', '/v1/clients', { client_id: 'taken', name: 'Second' });
      expect(taken.status).toBe(409);
      expect(await taken.json()).toMatchObject({ code: 'client.already_exists' });

      const form = await fetch(`${service.url}/v1/clients`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'name=x',
      });
      expect(form.status).toBe(415);
      expect(await form.json()).toMatchObject({ code: 'request.unsupported_media_type' });

      const bootstrap = await admin('DELETE', `/v1/clients/${bootstrapClientId}`);
      expect(bootstrap.status).toBe(409);
      expect(await bootstrap.json()).toMatchObject({ code: 'client.bootstrap_protected' });

      const reader = await admin('GET', '/v1/clients', undefined, await service.bootstrapAccessToken('tokens:issue'));
      expect(reader.status).toBe(403);
      expect(reader.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
    });

    it('rejects an access token after the client revoked it', async () => {
      const token = await service.bootstrapAccessToken('clients:admin');
      expect((await admin('GET', '/v1/clients', undefined, token)).status).toBe(200);
      const revoked = await service.postForm('/oauth/revoke', { token }, { clientId: bootstrapClientId, clientSecret: bootstrapClientSecret });
      expect(revoked.status).toBe(200);
      const refused = await admin('GET', '/v1/clients', undefined, token);
      expect(refused.status).toBe(401);
      expect(await refused.json()).toMatchObject({ code: 'auth.invalid_token' });
    });
  });

  describe('when the bootstrap client starts with the service', () => {
    it('is upserted with the configured secret and the bootstrap scopes', async () => {
      const client = await service.registry.get(bootstrapClientId);
      expect(client.allowedScopes).toEqual([
        'clients:admin',
        'grants:admin',
        'grants:read',
        'grants:write',
        'tokens:introspect',
        'tokens:issue',
      ]);

      // A restart with another secret replaces the hash, so only the new secret authenticates.
      const restarted = await TokenServiceUnderTest.start({
        databaseUrl: database.url,
        environment: { BOOTSTRAP_CLIENT_SECRET: 'rotated-bootstrap-secret-9876543210' },
      });
      try {
        const oldSecret = await restarted.postForm('/oauth/token', { grant_type: 'client_credentials' }, {
          clientId: bootstrapClientId,
          clientSecret: bootstrapClientSecret,
        });
        expect(oldSecret.status).toBe(401);
        const newSecret = await restarted.postForm('/oauth/token', { grant_type: 'client_credentials' }, {
          clientId: bootstrapClientId,
          clientSecret: 'rotated-bootstrap-secret-9876543210',
        });
        expect(newSecret.status).toBe(200);
      } finally {
        await restarted.close();
      }
    });
  });

  describe('when an operator uses the client command', () => {
    let dataSource: DataSource;
    const lines: string[] = [];
    const errors: string[] = [];
    const output = { out: (line: string) => lines.push(line), error: (line: string) => errors.push(line) };

    beforeAll(async () => {
      dataSource = new DataSource(dataSourceOptions({ databaseUrl: database.url, applicationName: 'token-client-cli-test', poolSize: 1 }));
      await dataSource.initialize();
    });

    afterAll(async () => {
      await dataSource?.destroy();
    });

    it('creates a client and prints its secret once', async () => {
      const registry = new ClientRegistry(dataSource, systemClock);
      const code = await runClientCommand(
        ['create', '--name', 'Nightly export', '--scopes', 'exports:read exports:write', '--client-id', 'nightly-export', '--max-lifetime', '2592000'],
        registry,
        output,
      );
      expect(code).toBe(0);
      const printed = JSON.parse(lines.join('\n')) as Record<string, unknown>;
      expect(printed).toMatchObject({ client_id: 'nightly-export', scopes: ['exports:read', 'exports:write'], offline_max_lifetime_seconds: 2_592_000 });
      expect(errors.at(-1)).toContain('Store client_secret now');

      const token = await service.postForm('/oauth/token', { grant_type: 'client_credentials', scope: 'exports:read' }, {
        clientId: 'nightly-export',
        clientSecret: printed.client_secret as string,
      });
      expect(token.status).toBe(200);

      lines.length = 0;
      expect(await runClientCommand(['get', 'nightly-export'], registry, output)).toBe(0);
      expect(lines.join('\n')).not.toContain(printed.client_secret as string);
    });

    it('reports bad input with exit codes 1 and 2', async () => {
      const registry = new ClientRegistry(dataSource, systemClock);
      expect(await runClientCommand(['create', '--scopes', 'a'], registry, output)).toBe(1);
      expect(errors.at(-1)).toContain('name must be');
      expect(await runClientCommand(['create', '--name', 'x', '--idle-timeout', 'soon'], registry, output)).toBe(1);
      expect(errors.at(-1)).toContain('--idle-timeout must be a whole number of seconds');
      expect(await runClientCommand(['rename'], registry, output)).toBe(2);
      expect(errors.at(-1)).toContain('Unknown command rename');
      expect(await runClientCommand(['create', '--colour', 'red'], registry, output)).toBe(2);
      expect(await runClientCommand(['delete', 'nobody'], registry, output)).toBe(1);
      expect(errors.at(-1)).toContain('client.not_found');
    });
  });
});
