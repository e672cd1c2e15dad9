import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import { DataSource } from 'typeorm';

import { SigningKeyStore } from '../../apps/token-service/src/keys/signing-key-store.js';
import { developmentDefaults } from '#config/development-defaults.js';
import { dataSourceOptions } from '#persistence/data-source-options.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';

import { basicAuthorization, bootstrapClientId, bootstrapClientSecret, GrantProjectionFixtures, TokenServiceUnderTest } from './support/token-service-harness.js';

type Credentials = { clientId: string; clientSecret: string };

const base64url = (value: object | string) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('when a caller attacks the token endpoints', () => {
  let database: TestDatabase;
  let service: TokenServiceUnderTest;
  let grants: GrantProjectionFixtures;
  let alice: Credentials;
  let mallory: Credentials;
  let refreshToken: string;
  let accessToken: string;
  let grantId: string;
  let userId: string;
  /** Signs tokens with the service's own active key, to reach the checks behind the signature. */
  let signWithServiceKey: (header: Record<string, unknown>, claims: Record<string, unknown>) => Promise<string>;

  beforeAll(async () => {
    database = await createTestDatabase('token_attacks');
    service = await TokenServiceUnderTest.start({ databaseUrl: database.url });
    grants = new GrantProjectionFixtures(database.url, service);
    alice = await service.createClient();
    mallory = await service.createClient();
    const grant = await grants.insertActiveGrant({ clientId: alice.clientId });
    grantId = grant.grantId;
    userId = grant.userId;
    ({ refresh_token: refreshToken, access_token: accessToken } = await service.issueOfflineToken(grant.grantId));

    const dataSource = new DataSource(dataSourceOptions({ databaseUrl: database.url, applicationName: 'token-attacks-test', poolSize: 1 }));
    await dataSource.initialize();
    const [key] = (await new SigningKeyStore(dataSource, Buffer.from(developmentDefaults.TOKEN_KEY_ENCRYPTION_KEY, 'base64')).load()).filter(
      (candidate) => candidate.state === 'active',
    );
    await dataSource.destroy();
    signWithServiceKey = (header, claims) =>
      new SignJWT(claims).setProtectedHeader({ alg: key.algorithm, kid: key.kid, ...header }).sign(key.privateKey);
  });

  afterAll(async () => {
    await grants?.close();
    await service?.close();
    await database?.drop();
  });

  const validClaims = () => ({
    iss: 'http://127.0.0.1:3001',
    sub: userId,
    client_id: alice.clientId,
    grant_id: grantId,
    scope: 'offline_access profile reports:read',
    iat: Math.floor(Date.now() / 1000),
    jti: 'forged',
  });

  async function expectOAuthError(response: Response, status: number, error: string): Promise<void> {
    const body = (await response.json()) as { error: string; error_description: string };
    expect({ status: response.status, error: body.error }).toEqual({ status, error });
    expect(typeof body.error_description).toBe('string');
    expect(response.headers.get('cache-control')).toBe('no-store');
  }

  it('refreshes with the untampered token, so the refusals below are the attacks', async () => {
    expect((await service.refresh(alice, refreshToken)).status).toBe(200);
  });

  describe('when the refresh token is not what it claims', () => {
    it('rejects another client presenting the refresh token', async () => {
      await expectOAuthError(await service.refresh(mallory, refreshToken), 400, 'invalid_grant');
    });

    it('rejects an access token presented as a refresh token', async () => {
      await expectOAuthError(await service.refresh(alice, accessToken), 400, 'invalid_grant');
    });

    it('rejects a refresh token presented as a bearer access token', async () => {
      const response = await fetch(`${service.url}/v1/clients`, { headers: { authorization: `Bearer ${refreshToken}` } });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: 'auth.invalid_token' });
    });

    it('rejects alg none', async () => {
      const [header, payload] = refreshToken.split('.');
      const decodedHeader = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
      const unsigned = `${base64url({ ...decodedHeader, alg: 'none' })}.${payload}.`;
      await expectOAuthError(await service.refresh(alice, unsigned), 400, 'invalid_grant');
    });

    it('rejects HS256 signed with the public key as the secret', async () => {
      const jwks = (await (await fetch(`${service.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string; x: string }> };
      const secret = createSecretKey(Buffer.from(jwks.keys[0].x, 'base64url'));
      const forged = await new SignJWT(validClaims())
        .setProtectedHeader({ alg: 'HS256', typ: 'offline-rt+jwt', kid: jwks.keys[0].kid })
        .sign(secret);
      await expectOAuthError(await service.refresh(alice, forged), 400, 'invalid_grant');
    });

    it('rejects an unknown kid', async () => {
      const { privateKey } = generateKeyPairSync('ed25519');
      const forged = await new SignJWT(validClaims()).setProtectedHeader({ alg: 'EdDSA', typ: 'offline-rt+jwt', kid: 'attacker-key' }).sign(privateKey);
      await expectOAuthError(await service.refresh(alice, forged), 400, 'invalid_grant');
    });

    it('rejects an edited payload', async () => {
      const [header, payload, signature] = refreshToken.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      const edited = `${header}.${base64url({ ...claims, scope: `${claims.scope} admin` })}.${signature}`;
      await expectOAuthError(await service.refresh(alice, edited), 400, 'invalid_grant');
    });

    it('rejects a validly signed token of the wrong typ, issuer or grant', async () => {
      const wrongType = await signWithServiceKey({ typ: 'JWT' }, validClaims());
      const wrongIssuer = await signWithServiceKey({ typ: 'offline-rt+jwt' }, { ...validClaims(), iss: 'https://attacker.example' });
      const otherGrant = await grants.insertActiveGrant({ clientId: mallory.clientId });
      const wrongGrant = await signWithServiceKey({ typ: 'offline-rt+jwt' }, { ...validClaims(), grant_id: otherGrant.grantId });
      const noGrantClaim = await signWithServiceKey({ typ: 'offline-rt+jwt' }, { ...validClaims(), grant_id: undefined });
      for (const forged of [wrongType, wrongIssuer, wrongGrant, noGrantClaim]) {
        await expectOAuthError(await service.refresh(alice, forged), 400, 'invalid_grant');
      }
      // The control: the same key and claims with the right typ do refresh.
      expect((await service.refresh(alice, await signWithServiceKey({ typ: 'offline-rt+jwt' }, validClaims()))).status).toBe(200);
    });

    it('rejects a 1 MB token with 413 and an OAuth error body', async () => {
      const response = await service.refresh(alice, 'a'.repeat(1024 * 1024));
      await expectOAuthError(response, 413, 'invalid_request');
    });

    it('rejects a 40 kB token that fits the body limit as invalid_grant', async () => {
      await expectOAuthError(await service.refresh(alice, `${refreshToken}${'a'.repeat(40 * 1024)}`), 400, 'invalid_grant');
    });
  });

  describe('when the scope parameter asks for more', () => {
    it('rejects a scope never granted', async () => {
      await expectOAuthError(await service.refresh(alice, refreshToken, { scope: 'profile admin' }), 400, 'invalid_scope');
    });

    it('rejects a scope that differs only in case', async () => {
      await expectOAuthError(await service.refresh(alice, refreshToken, { scope: 'PROFILE' }), 400, 'invalid_scope');
    });

    it('rejects a malformed scope token', async () => {
      await expectOAuthError(await service.refresh(alice, refreshToken, { scope: 'profile "quoted"' }), 400, 'invalid_scope');
    });

    it('folds a duplicated scope', async () => {
      const response = await service.refresh(alice, refreshToken, { scope: 'profile profile' });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { scope: string; access_token: string };
      expect(body.scope).toBe('profile');
      expect(decodeJwt(body.access_token).scope).toBe('profile');
    });

    it('narrows an omitted scope to what the grant still holds', async () => {
      const grant = await grants.insertActiveGrant({ clientId: alice.clientId });
      const issued = await service.issueOfflineToken(grant.grantId);
      await grants.changeScopes(grant.grantId, ['offline_access', 'profile']);

      const response = await service.refresh(alice, issued.refresh_token);
      expect(((await response.json()) as { scope: string }).scope).toBe('offline_access profile');
      await expectOAuthError(await service.refresh(alice, issued.refresh_token, { scope: 'reports:read' }), 400, 'invalid_scope');

      await grants.changeScopes(grant.grantId, ['profile']);
      await expectOAuthError(await service.refresh(alice, issued.refresh_token), 400, 'invalid_grant');
    });
  });

  describe('when the request itself is malformed', () => {
    it('rejects a JSON body', async () => {
      const response = await fetch(`${service.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuthorization(alice.clientId, alice.clientSecret) },
        body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: refreshToken }),
      });
      await expectOAuthError(response, 400, 'invalid_request');
    });

    it('rejects malformed JSON and an unknown media type with invalid_request', async () => {
      for (const [contentType, body] of [
        ['application/json', '{"grant_type":'],
        ['application/xml', '<grant_type/>'],
      ]) {
        const response = await fetch(`${service.url}/oauth/token`, { method: 'POST', headers: { 'content-type': contentType }, body });
        await expectOAuthError(response, 400, 'invalid_request');
      }
    });

    it('rejects a missing grant_type', async () => {
      await expectOAuthError(await service.postForm('/oauth/token', { refresh_token: refreshToken }, alice), 400, 'invalid_request');
    });

    it('rejects an unknown grant_type', async () => {
      await expectOAuthError(await service.postForm('/oauth/token', { grant_type: 'password' }, alice), 400, 'unsupported_grant_type');
    });

    it('rejects a repeated parameter', async () => {
      const response = await fetch(`${service.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuthorization(alice.clientId, alice.clientSecret) },
        body: `grant_type=refresh_token&refresh_token=${refreshToken}&refresh_token=${refreshToken}`,
      });
      await expectOAuthError(response, 400, 'invalid_request');
    });

    it('rejects a missing refresh_token', async () => {
      await expectOAuthError(await service.postForm('/oauth/token', { grant_type: 'refresh_token' }, alice), 400, 'invalid_request');
    });

    it('answers an unknown OAuth path with an OAuth error', async () => {
      await expectOAuthError(await service.postForm('/oauth/authorize', {}), 404, 'invalid_request');
    });
  });

  describe('when client authentication is wrong', () => {
    async function expectInvalidClient(response: Response, basicChallenge: boolean): Promise<void> {
      expect(response.headers.get('www-authenticate')).toBe(basicChallenge ? 'Basic realm="offline-grants"' : null);
      await expectOAuthError(response, 401, 'invalid_client');
    }

    it('rejects Basic credentials with a stray %', async () => {
      const response = await fetch(`${service.url}/oauth/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${alice.clientId}:100%sure`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
      });
      await expectInvalidClient(response, true);
    });

    it('rejects Basic credentials that are not base64 or lack the colon', async () => {
      for (const authorization of ['Basic !!!', `Basic ${Buffer.from('no-colon').toString('base64')}`]) {
        const response = await fetch(`${service.url}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
          body: 'grant_type=client_credentials',
        });
        await expectInvalidClient(response, true);
      }
    });

    it('rejects a wrong secret with Basic and with client_secret_post', async () => {
      await expectInvalidClient(await service.refresh({ ...alice, clientSecret: 'wrong' }, refreshToken), true);
      const post = await service.postForm('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: alice.clientId,
        client_secret: 'wrong',
      });
      await expectInvalidClient(post, false);
    });

    it('rejects an unknown client id', async () => {
      await expectInvalidClient(await service.refresh({ clientId: 'nobody', clientSecret: 'x' }, refreshToken), true);
    });

    it('rejects a confidential client that sends no secret', async () => {
      const response = await service.postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: alice.clientId });
      await expectInvalidClient(response, false);
    });

    it('rejects two authentication methods at once', async () => {
      const response = await service.postForm(
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: refreshToken, client_secret: alice.clientSecret },
        alice,
      );
      await expectOAuthError(response, 400, 'invalid_request');
    });

    it('accepts client_secret_post and a form-encoded secret in Basic', async () => {
      const post = await service.postForm('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: alice.clientId,
        client_secret: alice.clientSecret,
      });
      expect(post.status).toBe(200);

      const spaced = await service.createClient({ clientId: 'client with space:and colon' });
      const response = await service.postForm('/oauth/token', { grant_type: 'client_credentials', scope: 'x' }, spaced);
      // Authenticated (the id and secret decoded), then refused for the scope, not for the credentials.
      await expectOAuthError(response, 400, 'invalid_scope');
    });

    it('rejects refresh for a public client', async () => {
      const publicClient = await service.createClient({ type: 'public' });
      const grant = await grants.insertActiveGrant({ clientId: alice.clientId });
      const issued = await service.issueOfflineToken(grant.grantId);
      const response = await service.postForm('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: issued.refresh_token,
        client_id: publicClient.clientId,
      });
      await expectOAuthError(response, 400, 'unauthorized_client');
    });
  });

  describe('when another client introspects or revokes', () => {
    it('shows another client only active:false, and a tokens:introspect caller everything', async () => {
      expect(await service.introspect(mallory, refreshToken)).toEqual({ active: false });
      expect(await service.introspect(mallory, accessToken)).toEqual({ active: false });

      const bootstrap = { clientId: bootstrapClientId, clientSecret: bootstrapClientSecret };
      expect(await service.introspect(bootstrap, refreshToken)).toMatchObject({
        active: true,
        client_id: alice.clientId,
        sub: userId,
        grant_id: grantId,
        scope: 'offline_access profile reports:read',
      });
      expect(await service.introspect(bootstrap, accessToken)).toMatchObject({ active: true, token_type: 'Bearer', client_id: alice.clientId });
      expect(await service.introspect(alice, 'garbage')).toEqual({ active: false });
    });

    it('refuses to revoke another client’s token and keeps it valid', async () => {
      for (const token of [refreshToken, accessToken]) {
        await expectOAuthError(await service.postForm('/oauth/revoke', { token }, mallory), 400, 'unauthorized_client');
      }
      expect((await service.refresh(alice, refreshToken)).status).toBe(200);
      expect((await service.introspect(alice, accessToken)).active).toBe(true);
    });
  });
});
