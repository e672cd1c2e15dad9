import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export interface AccessTokenOptions {
  /** Claims to add or replace, such as `client_id` or `aud`; `undefined` removes a default claim. */
  claims?: Record<string, unknown>;
  /** JOSE `typ`; RFC 9068 access tokens use `at+jwt`. */
  typ?: string;
  algorithm?: 'ES256' | 'RS256';
  /** Seconds from now until `exp`; negative for an expired token. */
  expiresInSeconds?: number;
  /** Sign with a key that the issuer's JWKS does not publish. */
  unpublishedKey?: boolean;
}

/**
 * A minimal OpenID provider stand-in on 127.0.0.1. It serves a discovery document and a JWKS and
 * signs access tokens with the published keys, so that tests control every token a resource
 * server receives. It has no authorization endpoint, because the browser tests use oidc-provider.
 */
export interface TestOpenIdIssuer {
  /** The issuer identifier, equal to the server's base URL. */
  issuer: string;
  accessToken(subject: string, options?: AccessTokenOptions): Promise<string>;
  close(): Promise<void>;
}

export async function startTestOpenIdIssuer(defaults: { clientId: string; audience?: string }): Promise<TestOpenIdIssuer> {
  const es256 = await generateKeyPair('ES256', { extractable: true });
  const rs256 = await generateKeyPair('RS256', { extractable: true });
  const unpublished = await generateKeyPair('ES256');
  const jwks = {
    keys: [
      { ...(await exportJWK(es256.publicKey)), kid: 'test-es256', alg: 'ES256', use: 'sig' },
      { ...(await exportJWK(rs256.publicKey)), kid: 'test-rs256', alg: 'RS256', use: 'sig' },
    ],
  };

  let issuer = '';
  const server: Server = createServer((request, response) => {
    if (request.url === '/.well-known/openid-configuration') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ['code'],
          code_challenge_methods_supported: ['S256'],
        }),
      );
    } else if (request.url === '/jwks') {
      response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(jwks));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const keyFor = (options: AccessTokenOptions): { key: PrivateKey; kid: string } => {
    if (options.unpublishedKey) return { key: unpublished.privateKey, kid: 'test-es256' };
    return options.algorithm === 'RS256' ? { key: rs256.privateKey, kid: 'test-rs256' } : { key: es256.privateKey, kid: 'test-es256' };
  };

  const accessToken = (subject: string, options: AccessTokenOptions = {}): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: issuer,
      sub: subject,
      client_id: defaults.clientId,
      ...(defaults.audience === undefined ? {} : { aud: defaults.audience }),
      iat: now,
      exp: now + (options.expiresInSeconds ?? 300),
      jti: `${subject}-${now}-${Math.random().toString(36).slice(2)}`,
      scope: 'openid',
      ...options.claims,
    };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];

    const { key, kid } = keyFor(options);
    const algorithm = options.algorithm ?? 'ES256';
    return new SignJWT(claims as JWTPayload).setProtectedHeader({ alg: algorithm, kid, typ: options.typ ?? 'at+jwt' }).sign(key);
  };

  return {
    issuer,
    accessToken,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
