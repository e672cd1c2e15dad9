import * as oauth from 'oauth4webapi';

import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';

import { freePort, GrantProjectionFixtures, TokenServiceUnderTest } from './support/token-service-harness.js';

describe('when oauth4webapi talks to the token service', () => {
  let database: TestDatabase;
  let service: TokenServiceUnderTest;
  let grants: GrantProjectionFixtures;
  let issuer: URL;

  beforeAll(async () => {
    database = await createTestDatabase('token_oauth4webapi');
    // The library checks that the metadata's issuer is the URL it discovered, so the service must
    // be started with its own URL as TOKEN_ISSUER.
    const port = await freePort();
    issuer = new URL(`http://127.0.0.1:${port}`);
    service = await TokenServiceUnderTest.start({
      databaseUrl: database.url,
      port,
      environment: { TOKEN_ISSUER: issuer.href },
    });
    grants = new GrantProjectionFixtures(database.url);
  });

  afterAll(async () => {
    await service?.close();
    await database?.drop();
  });

  async function discover(): Promise<oauth.AuthorizationServer> {
    const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true });
    return oauth.processDiscoveryResponse(issuer, response);
  }

  it('discovers the RFC 8414 metadata', async () => {
    const as = await discover();
    expect(as.issuer).toBe(`http://127.0.0.1:${issuer.port}`);
    expect(as.token_endpoint).toBe(`${as.issuer}/oauth/token`);
    expect(as.introspection_endpoint).toBe(`${as.issuer}/oauth/introspect`);
    expect(as.revocation_endpoint).toBe(`${as.issuer}/oauth/revoke`);
    expect(as.jwks_uri).toBe(`${as.issuer}/.well-known/jwks.json`);
    expect(as.grant_types_supported).toEqual(['refresh_token', 'client_credentials']);
    expect(as.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post']);
  });

  it('runs client_credentials and gets an RFC 9068 access token the library validates', async () => {
    const as = await discover();
    const registered = await service.createClient({ allowedScopes: ['reports:read', 'reports:write'] });
    const client: oauth.Client = { client_id: registered.clientId };

    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(registered.clientSecret), { scope: 'reports:read' }, {
      [oauth.allowInsecureRequests]: true,
    });
    const result = await oauth.processClientCredentialsResponse(as, client, response);
    expect(result.token_type).toBe('bearer');
    expect(result.scope).toBe('reports:read');

    const claims = await oauth.validateJwtAccessToken(
      as,
      new Request('http://127.0.0.1/resource', { headers: { authorization: `Bearer ${result.access_token}` } }),
      'offline-grants-api',
      { [oauth.allowInsecureRequests]: true, signingAlgorithms: ['EdDSA'] },
    );
    expect(claims).toMatchObject({ client_id: registered.clientId, sub: registered.clientId, scope: 'reports:read' });
  });

  it('refreshes an offline token, introspects it and revokes it with client_secret_post', async () => {
    const as = await discover();
    const registered = await service.createClient();
    const client: oauth.Client = { client_id: registered.clientId };
    const authentication = oauth.ClientSecretPost(registered.clientSecret);
    const options = { [oauth.allowInsecureRequests]: true };
    const grant = await grants.insertActiveGrant({ clientId: registered.clientId });
    const issued = await service.issueOfflineToken(grant.grantId);

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, authentication, issued.refresh_token, { ...options, additionalParameters: { scope: 'profile' } }),
    );
    expect(refreshed.scope).toBe('profile');
    expect(refreshed.refresh_token).toBeUndefined();

    const introspection = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, authentication, issued.refresh_token, options),
    );
    expect(introspection).toMatchObject({ active: true, client_id: registered.clientId, sub: grant.userId });

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, authentication, refreshed.access_token, options));
    const afterRevocation = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, authentication, refreshed.access_token, options),
    );
    expect(afterRevocation.active).toBe(false);
  });

  it('surfaces a revoked grant as the OAuth error invalid_grant', async () => {
    const as = await discover();
    const registered = await service.createClient();
    const client: oauth.Client = { client_id: registered.clientId };
    const grant = await grants.insertActiveGrant({ clientId: registered.clientId });
    const issued = await service.issueOfflineToken(grant.grantId);
    await grants.revoke(grant.grantId);

    const response = await oauth.refreshTokenGrantRequest(as, client, oauth.ClientSecretBasic(registered.clientSecret), issued.refresh_token, {
      [oauth.allowInsecureRequests]: true,
    });
    await expect(oauth.processRefreshTokenResponse(as, client, response)).rejects.toMatchObject({
      name: 'ResponseBodyError',
      error: 'invalid_grant',
      status: 400,
    });
  });
});
