import { FullStack } from '../support/full-stack.js';

// PostgreSQL cannot store a NUL character, nor parse JSON with an unpaired UTF-16 surrogate; both
// come from callers and must get a 4xx, never a 500.
describe('when input holds text PostgreSQL cannot store', () => {
  let stack: FullStack;

  beforeAll(async () => {
    stack = await FullStack.start('e2e_hostile_text');
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('answers a NUL in client_id at the token endpoint with 4xx', async () => {
    const response = await fetch(`${stack.tokenService.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=a%00b&client_secret=x',
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(((await response.json()) as { error: string }).error).toMatch(/^invalid_(request|client)$/);
  });

  it('answers a NUL in a client id path with 4xx', async () => {
    const token = await stack.serviceToken('clients:admin');
    const response = await fetch(`${stack.tokenService.url}/v1/clients/a%00b`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it('rejects an unpaired surrogate in user_id as invalid', async () => {
    const token = await stack.serviceToken('grants:write');
    const response = await fetch(`${stack.grantService.url}/v1/grants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"user_id":"a\\ud800b","client_id":"c","scopes":["openid"]}',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe('grant.invalid_user_id');
  });

  it('answers an unpaired surrogate in the actor with 400', async () => {
    const token = await stack.serviceToken('grants:admin');
    const response = await fetch(`${stack.grantService.url}/v1/grants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"user_id":"u","client_id":"c","scopes":["openid"],"actor":{"type":"admin","id":"x\\udc00"}}',
    });
    expect(response.status).toBe(400);
  });
});
