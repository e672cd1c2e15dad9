import { generateKeyPair, SignJWT } from 'jose';
import { createServer } from 'node:net';

import { type ApiResponse, type GrantApi, startGrantApi, testAudience, testIssuer } from './grant-api-harness.js';

const unknownGrantId = '3f8e2d1c-0b9a-4876-9543-210fedcba987';

function expectProblem(response: ApiResponse, status: number, code: string, field?: string): void {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body.code).toBe(code);
  expect(response.body.status).toBe(status);
  expect(response.body.type).toBe(`https://offline-grants.dev/problems/${code}`);
  expect(typeof response.body.title).toBe('string');
  expect(response.body.field).toBe(field);
  expect(JSON.stringify(response.body)).not.toMatch(/\bat .+:\d+:\d+/);
}

/** Base64url of a JSON object, for hand-made tokens that jose refuses to produce. */
function encodeSegment(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('grant API errors', () => {
  let api: GrantApi;
  let grantId: string;

  beforeAll(async () => {
    api = await startGrantApi('grant_api_errors');
    const created = await api.request('POST', '/v1/grants', { json: { user_id: 'user-e', client_id: 'client-e', scopes: ['openid'] } });
    grantId = created.body.grant.grant_id;
  });

  afterAll(async () => {
    await api.close();
  });

  describe('when the request body is malformed', () => {
    it('rejects invalid JSON with 400 request.invalid_json', async () => {
      const response = await api.request('POST', '/v1/grants', { rawBody: '{"user_id": "u", ', headers: { 'content-type': 'application/json' } });

      expectProblem(response, 400, 'request.invalid_json');
    });

    it('rejects an empty JSON body with 400 request.invalid_json', async () => {
      const response = await api.request('POST', '/v1/grants', { rawBody: '', headers: { 'content-type': 'application/json' } });

      expectProblem(response, 400, 'request.invalid_json');
    });

    it('rejects a __proto__ key with 400 request.invalid_json', async () => {
      const response = await api.request('POST', '/v1/grants', {
        rawBody: '{"user_id": "u", "client_id": "c", "scopes": ["openid"], "__proto__": {"isAdmin": true}}',
        headers: { 'content-type': 'application/json' },
      });

      expectProblem(response, 400, 'request.invalid_json');
    });

    it.each([['text/plain'], ['application/x-www-form-urlencoded'], ['application/xml']])(
      'rejects Content-Type %s with 415',
      async (contentType) => {
        const response = await api.request('POST', '/v1/grants', { rawBody: 'user_id=u&client_id=c', headers: { 'content-type': contentType } });

        expectProblem(response, 415, 'request.unsupported_media_type');
      },
    );

    it('rejects a body over 64 KiB with 413', async () => {
      const scopes = Array.from({ length: 7000 }, (_, index) => `scope-${index}`);

      const response = await api.request('POST', '/v1/grants', { json: { user_id: 'u', client_id: 'c', scopes } });

      expectProblem(response, 413, 'request.body_too_large');
    });

    it('rejects a missing body with 400 request.invalid_body', async () => {
      const response = await api.request('POST', '/v1/grants');

      expectProblem(response, 400, 'request.invalid_body');
    });

    it('rejects an array body with 400 request.invalid_body', async () => {
      const response = await api.request('POST', '/v1/grants', { json: [{ user_id: 'u' }] });

      expectProblem(response, 400, 'request.invalid_body');
    });

    it('rejects an unknown field with 400 request.unknown_field', async () => {
      const response = await api.request('POST', '/v1/grants', { json: { user_id: 'u', client_id: 'c', scopes: ['openid'], scope: 'x' } });

      expectProblem(response, 400, 'request.unknown_field', 'scope');
    });
  });

  describe('when a field is invalid', () => {
    it.each([
      ['missing scopes', { user_id: 'u', client_id: 'c' }, 'grant.invalid_scopes', 'scopes'],
      ['scopes as a string', { user_id: 'u', client_id: 'c', scopes: 'openid email' }, 'grant.invalid_scopes', 'scopes'],
      ['no scopes', { user_id: 'u', client_id: 'c', scopes: [] }, 'grant.invalid_scopes', 'scopes'],
      ['a scope with a space', { user_id: 'u', client_id: 'c', scopes: ['openid', 'read write'] }, 'grant.invalid_scopes', 'scopes[1]'],
      ['a scope with a quote', { user_id: 'u', client_id: 'c', scopes: ['say"hi"'] }, 'grant.invalid_scopes', 'scopes[0]'],
      ['a control character in user_id', { user_id: 'user\u0007', client_id: 'c', scopes: ['openid'] }, 'grant.invalid_user_id', 'user_id'],
      ['a missing user_id', { client_id: 'c', scopes: ['openid'] }, 'grant.invalid_user_id', 'user_id'],
      ['a numeric client_id', { user_id: 'u', client_id: 42, scopes: ['openid'] }, 'grant.invalid_client_id', 'client_id'],
      ['a client_id of 256 characters', { user_id: 'u', client_id: 'c'.repeat(256), scopes: ['openid'] }, 'grant.invalid_client_id', 'client_id'],
    ])('rejects %s with 400', async (_case, body, code, field) => {
      const response = await api.request('POST', '/v1/grants', { json: body });

      expectProblem(response, 400, code, field);
      expect(response.body.detail).toContain(field.replace(/\[\d+\]$/, ''));
    });

    it('rejects an unknown revocation reason with 400 grant.invalid_reason', async () => {
      const response = await api.request('DELETE', `/v1/grants/${grantId}`, { json: { reason: 'bored' } });

      expectProblem(response, 400, 'grant.invalid_reason', 'reason');
    });

    it('rejects an actor from a caller without grants:admin with 403', async () => {
      const response = await api.request('POST', '/v1/grants', {
        json: { user_id: 'u', client_id: 'c', scopes: ['openid'], actor: { type: 'user', id: 'u' } },
      });

      expectProblem(response, 403, 'auth.insufficient_scope');
    });

    it('rejects an admin actor of an unknown type with 400 grant.invalid_actor', async () => {
      const token = await api.token({ scope: 'grants:admin' });

      const response = await api.request('POST', '/v1/grants', {
        token,
        json: { user_id: 'u', client_id: 'c', scopes: ['openid'], actor: { type: 'robot', id: 'r2' } },
      });

      expectProblem(response, 400, 'grant.invalid_actor', 'actor.type');
    });
  });

  describe('when the grant id or route is wrong', () => {
    it.each([
      ['GET', `/v1/grants/${unknownGrantId}/history`],
      ['PATCH', `/v1/grants/${unknownGrantId}`],
      ['DELETE', `/v1/grants/${unknownGrantId}`],
    ])('answers %s %s with 404 grant.not_found', async (method, path) => {
      const response = await api.request(method, path, method === 'PATCH' ? { json: { scopes: ['openid'] } } : {});

      expectProblem(response, 404, 'grant.not_found', 'grant_id');
    });

    it.each([
      ['GET', '/v1/grants/not-a-uuid'],
      ['DELETE', '/v1/grants/12345'],
      ['GET', '/v1/grants/3f8e2d1c0b9a48769543210fedcba987/history'],
    ])('answers %s %s with 400 naming grant_id', async (method, path) => {
      const response = await api.request(method, path);

      expectProblem(response, 400, 'request.invalid_parameter', 'grant_id');
    });

    it('answers an unknown route with 404 route.not_found', async () => {
      const response = await api.request('GET', '/v1/grant-stuff?x=1');

      expectProblem(response, 404, 'route.not_found');
      expect(response.body.detail).toContain('GET /v1/grant-stuff');
    });

    it.each([
      ['PUT', `/v1/grants/${unknownGrantId}`, 'GET, PATCH, DELETE'],
      ['DELETE', '/v1/grants', 'GET, POST'],
      ['POST', `/v1/grants/${unknownGrantId}/history`, 'GET'],
    ])('answers %s %s with 405 and Allow', async (method, path, allow) => {
      const response = await api.request(method, path);

      expectProblem(response, 405, 'request.method_not_allowed');
      expect(response.headers.get('allow')).toBe(allow);
    });

    it('rejects an unknown query parameter with 400', async () => {
      const response = await api.request('GET', `/v1/grants/${grantId}?min_positon=1`);

      expectProblem(response, 400, 'request.invalid_parameter', 'min_positon');
    });

    it('rejects a query parameter on POST with 400', async () => {
      const response = await api.request('POST', '/v1/grants?dry_run=true', { json: { user_id: 'u', client_id: 'c', scopes: ['openid'] } });

      expectProblem(response, 400, 'request.invalid_parameter', 'dry_run');
    });
  });

  describe('when the access token is missing or invalid', () => {
    const otherIssuerToken = () => api.token({ issuer: 'https://issuer.invalid' });
    const cases: Array<[string, () => Promise<Record<string, string>>]> = [
      ['no Authorization header', async () => ({})],
      ['a Basic Authorization header', async () => ({ authorization: 'Basic dXNlcjpwYXNz' })],
      ['a token that is not a JWT', async () => ({ authorization: 'Bearer not.a.jwt' })],
      ['a token of another issuer', async () => ({ authorization: `Bearer ${await otherIssuerToken()}` })],
      ['a token for another audience', async () => ({ authorization: `Bearer ${await api.token({ audience: 'other-api' })}` })],
      ['an expired token', async () => ({ authorization: `Bearer ${await api.token({ expiresAt: Math.floor(Date.now() / 1000) - 120 })}` })],
      ['a token without typ at+jwt', async () => ({ authorization: `Bearer ${await api.token({ typ: 'JWT' })}` })],
      ['a token without exp', async () => ({ authorization: `Bearer ${await api.token({ expiresAt: null })}` })],
      [
        'an alg none token',
        async () => {
          const header = encodeSegment({ alg: 'none', typ: 'at+jwt' });
          const payload = encodeSegment({ iss: testIssuer, aud: testAudience, client_id: 'x', scope: 'grants:admin', exp: 4102444800 });
          return { authorization: `Bearer ${header}.${payload}.` };
        },
      ],
      [
        'an HS256 token',
        async () => {
          const token = await new SignJWT({ client_id: 'x', scope: 'grants:admin' })
            .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'test-eddsa' })
            .setIssuer(testIssuer)
            .setAudience(testAudience)
            .setExpirationTime('5m')
            .sign(new TextEncoder().encode('a-shared-secret-of-at-least-32-bytes!'));
          return { authorization: `Bearer ${token}` };
        },
      ],
      [
        'a token signed by an unknown key',
        async () => {
          const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
          const token = await new SignJWT({ client_id: 'x', scope: 'grants:admin' })
            .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'test-eddsa' })
            .setIssuer(testIssuer)
            .setAudience(testAudience)
            .setExpirationTime('5m')
            .sign(privateKey);
          return { authorization: `Bearer ${token}` };
        },
      ],
    ];

    it.each(cases)('rejects %s with 401 invalid_token', async (_case, headersFor) => {
      const response = await api.request('GET', `/v1/grants/${grantId}/history`, { token: null, headers: await headersFor() });

      expectProblem(response, 401, 'auth.invalid_token');
      expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    });

    it('names the expected issuer in the detail', async () => {
      const response = await api.request('GET', `/v1/grants/${grantId}/history`, { token: await otherIssuerToken() });

      expect(response.body.detail).toContain(testIssuer);
    });
  });

  describe('when the token lacks the scope', () => {
    it('rejects a read-only token on POST with 403 insufficient_scope', async () => {
      const token = await api.token({ scope: 'grants:read' });

      const response = await api.request('POST', '/v1/grants', { token, json: { user_id: 'u', client_id: 'c', scopes: ['openid'] } });

      expectProblem(response, 403, 'auth.insufficient_scope');
      expect(response.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope", scope="grants:write"');
    });

    it('rejects a write-only token on GET with 403', async () => {
      const token = await api.token({ scope: 'grants:write' });

      const response = await api.request('GET', `/v1/grants/${grantId}/history`, { token });

      expectProblem(response, 403, 'auth.insufficient_scope');
    });

    it('rejects a token without a scope claim with 403', async () => {
      const token = await api.token({ claims: { scope: undefined } });

      const response = await api.request('GET', `/v1/grants/${grantId}/history`, { token });

      expectProblem(response, 403, 'auth.insufficient_scope');
    });
  });

  describe('when the token is valid', () => {
    it('accepts grants:admin for reads and writes', async () => {
      const token = await api.token({ scope: 'grants:admin' });

      const read = await api.request('GET', `/v1/grants/${grantId}/history`, { token });
      const write = await api.request('POST', '/v1/grants', { token, json: { user_id: 'u-admin', client_id: 'c', scopes: ['openid'] } });

      expect(read.status).toBe(200);
      expect(write.status).toBe(201);
    });

    it('accepts an ES256 token', async () => {
      const token = await api.token({ algorithm: 'ES256' });

      const response = await api.request('GET', `/v1/grants/${grantId}/history`, { token });

      expect(response.status).toBe(200);
    });

    it('takes the caller from sub when client_id is absent', async () => {
      const token = await api.token({ clientId: null, subject: 'service-by-sub' });

      const response = await api.request('POST', '/v1/grants', { token, json: { user_id: 'u-sub', client_id: 'c', scopes: ['openid'] } });

      const history = await api.request('GET', `/v1/grants/${response.body.grant.grant_id}/history`);
      expect(history.body.events[0].actor).toEqual({ type: 'service', id: 'service-by-sub' });
    });
  });

  describe('when the server fails unexpectedly', () => {
    it('answers 500 internal_error without detail', async () => {
      await api.db.query('ALTER TABLE grant_events RENAME TO grant_events_hidden');
      let response: ApiResponse;
      try {
        response = await api.request('GET', `/v1/grants/${grantId}/history`);
      } finally {
        await api.db.query('ALTER TABLE grant_events_hidden RENAME TO grant_events');
      }

      expectProblem(response, 500, 'internal_error');
      expect(response.body.detail).toBeUndefined();
      expect(JSON.stringify(response.body)).not.toContain('grant_events');
    });
  });
});

describe('grant API with an unreachable JWKS', () => {
  let api: GrantApi;

  beforeAll(async () => {
    // A port that was free a moment ago: nothing listens there, so every JWKS fetch fails.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    api = await startGrantApi('grant_api_jwks_down', { GRANT_API_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json` });
  });

  afterAll(async () => {
    await api.close();
  });

  it('answers 503 auth.jwks_unavailable', async () => {
    const response = await api.request('GET', `/v1/grants/${unknownGrantId}/history`);

    expectProblem(response, 503, 'auth.jwks_unavailable');
    expect(response.headers.get('retry-after')).toBe('5');
  });
});

describe('grant API with an unreachable Kafka broker', () => {
  let api: GrantApi;

  beforeAll(async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    api = await startGrantApi('grant_api_kafka_down', { KAFKA_BROKERS: `127.0.0.1:${port}` });
  });

  afterAll(async () => {
    await api.close();
  });

  it('keeps the readiness body on 503', async () => {
    const response = await api.request('GET', '/health/ready', { token: null });

    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body.details.kafka.status).toBe('down');
    expect(response.body.details.postgres.status).toBe('up');
  });
});
