import { decodeProtectedHeader } from 'jose';
import { DataSource } from 'typeorm';

import { developmentDefaults } from '#config/development-defaults.js';
import { dataSourceOptions } from '#persistence/data-source-options.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';

import { runKeyCommand } from '../../apps/token-service/src/keys/key.cli.js';
import { SigningKeyStore } from '../../apps/token-service/src/keys/signing-key-store.js';

import { TestClock } from './support/test-clock.js';
import { GrantProjectionFixtures, TokenServiceUnderTest } from './support/token-service-harness.js';

type Jwks = { keys: Array<{ kid: string; kty: string; alg: string; use: string; d?: string }> };

const kidOf = (token: string) => decodeProtectedHeader(token).kid;

describe('when signing keys are created, rotated and restarted', () => {
  let database: TestDatabase;
  let grants: GrantProjectionFixtures;
  const running: TokenServiceUnderTest[] = [];

  async function start(options: { clock?: TestClock; environment?: Record<string, string> } = {}): Promise<TokenServiceUnderTest> {
    const service = await TokenServiceUnderTest.start({ databaseUrl: database.url, ...options });
    running.push(service);
    return service;
  }

  async function stop(service: TokenServiceUnderTest): Promise<void> {
    running.splice(running.indexOf(service), 1);
    await service.close();
  }

  async function jwks(service: TokenServiceUnderTest): Promise<Jwks> {
    return (await (await fetch(`${service.url}/.well-known/jwks.json`)).json()) as Jwks;
  }

  async function adminRequest(service: TokenServiceUnderTest, method: string, path: string): Promise<Response> {
    return fetch(`${service.url}${path}`, { method, headers: { authorization: `Bearer ${await service.bootstrapAccessToken('clients:admin')}` } });
  }

  beforeAll(async () => {
    database = await createTestDatabase('token_keys');
    grants = new GrantProjectionFixtures(database.url);
  });

  afterAll(async () => {
    for (const service of running) await service.close();
    await database?.drop();
  });

  it('keeps its keys across a restart, so tokens issued before still refresh', async () => {
    const first = await start();
    const client = await first.createClient();
    const grant = await grants.insertActiveGrant({ clientId: client.clientId });
    const issued = await first.issueOfflineToken(grant.grantId);
    const keysBefore = await jwks(first);
    await stop(first);

    const second = await start();
    expect(await jwks(second)).toEqual(keysBefore);
    expect(keysBefore.keys[0]).toMatchObject({ kty: 'OKP', alg: 'EdDSA', use: 'sig', kid: kidOf(issued.refresh_token) });
    expect(keysBefore.keys[0].d).toBeUndefined();
    expect((await second.refresh(client, issued.refresh_token)).status).toBe(200);
    await stop(second);
  });

  it('stores private keys encrypted, and refuses to start with another encryption key', async () => {
    const dataSource = new DataSource(dataSourceOptions({ databaseUrl: database.url, applicationName: 'token-keys-test', poolSize: 1 }));
    await dataSource.initialize();
    try {
      const [row] = await dataSource.query('SELECT kid, public_jwk, private_key_ciphertext FROM signing_keys LIMIT 1');
      const [key] = await new SigningKeyStore(dataSource, Buffer.from(developmentDefaults.TOKEN_KEY_ENCRYPTION_KEY, 'base64')).load();
      const der = key.privateKey.export({ format: 'der', type: 'pkcs8' });
      expect((row.private_key_ciphertext as Buffer).includes(der.subarray(-32))).toBe(false);
      expect(row.public_jwk).toMatchObject({ kid: row.kid });
    } finally {
      await dataSource.destroy();
    }

    await expect(start({ environment: { TOKEN_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') } })).rejects.toThrow(
      /cannot be decrypted with TOKEN_KEY_ENCRYPTION_KEY/,
    );
  });

  it('rotates: new tokens carry the new kid and old tokens keep refreshing', async () => {
    const service = await start();
    const client = await service.createClient();
    const grant = await grants.insertActiveGrant({ clientId: client.clientId });
    const before = await service.issueOfflineToken(grant.grantId);

    const rotated = await adminRequest(service, 'POST', '/v1/signing-keys/rotate');
    expect(rotated.status).toBe(201);
    const newKey = (await rotated.json()) as { kid: string; state: string };
    expect(newKey.state).toBe('active');
    expect(newKey.kid).not.toBe(kidOf(before.refresh_token));

    const after = await service.issueOfflineToken(grant.grantId);
    expect(kidOf(after.refresh_token)).toBe(newKey.kid);
    expect(kidOf(after.access_token)).toBe(newKey.kid);
    expect((await jwks(service)).keys.map((key) => key.kid)).toEqual(expect.arrayContaining([newKey.kid, kidOf(before.refresh_token)]));

    const refreshedOld = await service.refresh(client, before.refresh_token);
    expect(refreshedOld.status).toBe(200);
    expect(kidOf(((await refreshedOld.json()) as { access_token: string }).access_token)).toBe(newKey.kid);

    const listed = (await (await adminRequest(service, 'GET', '/v1/signing-keys')).json()) as { items: Array<{ kid: string; state: string }> };
    expect(listed.items.find((key) => key.kid === kidOf(before.refresh_token))?.state).toBe('retired');
    await stop(service);
  });

  it('publishes a rotated key before it signs', async () => {
    const clock = new TestClock();
    const service = await start({ clock, environment: { TOKEN_KEY_PUBLISH_DELAY_SECONDS: '600' } });
    const client = await service.createClient();
    const grant = await grants.insertActiveGrant({ clientId: client.clientId });
    const signingKid = kidOf((await service.issueOfflineToken(grant.grantId)).refresh_token);

    const next = (await (await adminRequest(service, 'POST', '/v1/signing-keys/rotate')).json()) as { kid: string; state: string };
    expect(next.state).toBe('next');
    expect((await jwks(service)).keys.map((key) => key.kid)).toContain(next.kid);
    expect(kidOf((await service.issueOfflineToken(grant.grantId)).refresh_token)).toBe(signingKid);

    clock.advance(601_000);
    expect(kidOf((await service.issueOfflineToken(grant.grantId)).refresh_token)).toBe(next.kid);
    await stop(service);
  });

  it('lets another instance verify a kid it has not loaded yet', async () => {
    const rotating = await start();
    const other = await start({ environment: { TOKEN_KEY_RELOAD_INTERVAL_SECONDS: '3600' } });
    const client = await rotating.createClient();
    const grant = await grants.insertActiveGrant({ clientId: client.clientId });

    await adminRequest(rotating, 'POST', '/v1/signing-keys/rotate');
    const issued = await rotating.issueOfflineToken(grant.grantId);
    expect((await jwks(other)).keys.map((key) => key.kid)).not.toContain(kidOf(issued.refresh_token));

    expect((await other.refresh(client, issued.refresh_token)).status).toBe(200);
    await stop(rotating);
    await stop(other);
  });

  it('removes only retired keys, after which their tokens stop verifying', async () => {
    const service = await start();
    const client = await service.createClient();
    const grant = await grants.insertActiveGrant({ clientId: client.clientId });
    const old = await service.issueOfflineToken(grant.grantId);
    const oldKid = kidOf(old.refresh_token)!;

    const active = (await (await adminRequest(service, 'POST', '/v1/signing-keys/rotate')).json()) as { kid: string };
    const refused = await adminRequest(service, 'DELETE', `/v1/signing-keys/${active.kid}`);
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ code: 'key.in_use', field: 'kid' });

    expect((await adminRequest(service, 'DELETE', `/v1/signing-keys/${oldKid}`)).status).toBe(204);
    expect((await jwks(service)).keys.map((key) => key.kid)).not.toContain(oldKid);
    const response = await service.refresh(client, old.refresh_token);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_grant');

    const unknown = await adminRequest(service, 'DELETE', '/v1/signing-keys/no-such-kid');
    expect(unknown.status).toBe(404);
    await stop(service);
  });

  it('rotates, lists and removes keys from the keys command', async () => {
    const dataSource = new DataSource(dataSourceOptions({ databaseUrl: database.url, applicationName: 'token-keys-cli-test', poolSize: 1 }));
    await dataSource.initialize();
    const lines: string[] = [];
    const errors: string[] = [];
    const output = { out: (line: string) => lines.push(line), error: (line: string) => errors.push(line) };
    const store = new SigningKeyStore(dataSource, Buffer.from(developmentDefaults.TOKEN_KEY_ENCRYPTION_KEY, 'base64'));
    const config = { TOKEN_SIGNING_ALG: 'ES256' as const, TOKEN_KEY_PUBLISH_DELAY_SECONDS: 0 };
    try {
      expect(await runKeyCommand(['rotate'], store, config, new TestClock(), output)).toBe(0);
      const rotated = JSON.parse(lines.join('\n')) as { kid: string; algorithm: string; state: string };
      expect(rotated).toMatchObject({ algorithm: 'ES256', state: 'active' });

      lines.length = 0;
      expect(await runKeyCommand(['list'], store, config, new TestClock(), output)).toBe(0);
      const listed = lines.map((line) => JSON.parse(line) as { kid: string; state: string });
      expect(listed.filter((key) => key.state === 'active').map((key) => key.kid)).toEqual([rotated.kid]);

      expect(await runKeyCommand(['remove', rotated.kid], store, config, new TestClock(), output)).toBe(1);
      expect(errors.at(-1)).toContain('key.in_use');
      expect(await runKeyCommand(['spin'], store, config, new TestClock(), output)).toBe(2);
      expect(errors.at(-1)).toContain('Unknown command spin');
    } finally {
      await dataSource.destroy();
    }

    // A service started now signs ES256 with the key the command made, and verifies it.
    const service = await start();
    const client = await service.createClient();
    const grant = await grants.insertActiveGrant({ clientId: client.clientId });
    const issued = await service.issueOfflineToken(grant.grantId);
    expect(decodeProtectedHeader(issued.refresh_token).alg).toBe('ES256');
    expect((await jwks(service)).keys.find((key) => key.kid === kidOf(issued.refresh_token))?.kty).toBe('EC');
    expect((await service.refresh(client, issued.refresh_token)).status).toBe(200);
    await stop(service);
  });

  it('starts with a signing key when the keys command rotated first', async () => {
    const empty = await createTestDatabase('token_keys_empty');
    const dataSource = new DataSource(dataSourceOptions({ databaseUrl: empty.url, applicationName: 'token-keys-empty-test', poolSize: 1 }));
    await dataSource.initialize();
    try {
      const store = new SigningKeyStore(dataSource, Buffer.from(developmentDefaults.TOKEN_KEY_ENCRYPTION_KEY, 'base64'));
      const output = { out: () => undefined, error: () => undefined };
      const config = { TOKEN_SIGNING_ALG: 'EdDSA' as const, TOKEN_KEY_PUBLISH_DELAY_SECONDS: 600 };
      expect(await runKeyCommand(['rotate'], store, config, new TestClock(), output)).toBe(0);
      const [next] = await store.load();
      expect(next.state).toBe('next');

      const service = await TokenServiceUnderTest.start({ databaseUrl: empty.url });
      try {
        const client = await service.createClient();
        const grant = await new GrantProjectionFixtures(empty.url).insertActiveGrant({ clientId: client.clientId });
        const issued = await service.issueOfflineToken(grant.grantId);
        expect(kidOf(issued.refresh_token)).not.toBe(next.kid);
        expect((await jwks(service)).keys.map((key) => key.kid)).toEqual(expect.arrayContaining([next.kid, kidOf(issued.refresh_token)]));
      } finally {
        await service.close();
      }
    } finally {
      await dataSource.destroy();
      await empty.drop();
    }
  });
});
