import { exportJWK, generateKeyPair } from 'jose';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/** A user who can sign in at the test provider; the login form accepts any password. */
export interface TestOidcUser {
  id: string;
  name: string;
}

export interface TestOidcClient {
  clientId: string;
  /** Exact redirect URIs, such as the grant service's `/account`. */
  redirectUris: string[];
}

export interface TestOidcProviderSettings {
  client: TestOidcClient;
  users: TestOidcUser[];
  /**
   * Resource indicator (an absolute URI) and `aud` of the JWT access tokens (RFC 8707, RFC 9068). The provider
   * issues them for every authorization, so a client need not send `resource`.
   */
  audience: string;
}

/**
 * An OpenID provider on 127.0.0.1 built on the `oidc-provider` package, for browser tests: the
 * authorization code flow with PKCE for one public client, its development login and consent
 * pages, and JWT access tokens. The port is bound first, so that the issuer URL is known before
 * the app it redirects to has started.
 */
export interface TestOidcProvider {
  issuer: string;
  /** Starts the provider. Until then the server responds 503 to every request. */
  start(settings: TestOidcProviderSettings): Promise<void>;
  close(): Promise<void>;
}

/** Binds the provider's port (0 picks a free one) on 127.0.0.1; `start` then configures it. */
export async function listenTestOidcProvider(port = 0): Promise<TestOidcProvider> {
  let handler: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
  const server = createServer((request, response) => {
    if (handler === undefined) {
      response.writeHead(503).end();
      return;
    }
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const start = async (settings: TestOidcProviderSettings): Promise<void> => {
    // RS256 signs ID tokens (the OpenID Connect default); ES256 signs the JWT access tokens.
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const ec = await generateKeyPair('ES256', { extractable: true });
    const keys = [
      { ...(await exportJWK(rsa.privateKey)), kid: 'test-rs256', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.privateKey)), kid: 'test-es256', alg: 'ES256', use: 'sig' },
    ];
    const users = new Map(settings.users.map((user) => [user.id, user]));
    const redirectOrigins = new Set(settings.client.redirectUris.map((uri) => new URL(uri).origin));

    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: settings.client.clientId,
          token_endpoint_auth_method: 'none',
          redirect_uris: settings.client.redirectUris,
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      jwks: { keys },
      cookies: { keys: ['test-oidc-provider-cookie-key'] },
      pkce: { required: () => true },
      // The account page calls the token endpoint from its own origin (a CORS request).
      clientBasedCORS: (_context, origin) => redirectOrigins.has(origin),
      findAccount: (_context, id) => {
        const user = users.get(id);
        if (user === undefined) return undefined;
        return { accountId: user.id, claims: () => ({ sub: user.id, name: user.name }) };
      },
      claims: { openid: ['sub'], profile: ['name'] },
      features: {
        devInteractions: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => settings.audience,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({
            scope: 'openid',
            audience: settings.audience,
            accessTokenFormat: 'jwt',
            accessTokenTTL: 600,
            jwt: { sign: { alg: 'ES256' } },
          }),
        },
      },
    });
    const callback = provider.callback();
    handler = (request, response) => void callback(request, response);
  };

  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });

  return { issuer, start, close };
}
