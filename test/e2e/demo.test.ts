import { spawn } from 'node:child_process';

import { listenTestOidcProvider, type TestOidcProvider } from '#testing/test-oidc-provider.js';

import { bootstrapClient, FullStack } from '../support/full-stack.js';

const accountAudience = 'urn:offline-grants:account';

/** Runs the built demo (`npm run demo` without the build) and collects its output. */
function runDemo(environment: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/demo/run-demo.js'], { env: { ...process.env, ...environment } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('npm run demo', () => {
  let stack: FullStack;
  let identityProvider: TestOidcProvider;

  beforeAll(async () => {
    identityProvider = await listenTestOidcProvider();
    stack = await FullStack.start('e2e_demo', {
      grantServiceEnvironment: { ACCOUNT_OIDC_ISSUER: identityProvider.issuer, ACCOUNT_OIDC_AUDIENCE: accountAudience },
    });
    await identityProvider.start({
      client: { clientId: 'offline-grants-account', redirectUris: [`${stack.grantService.url}/account`] },
      users: [{ id: 'alice', name: 'Alice Example' }],
      audience: accountAudience,
    });
  });

  afterAll(async () => {
    await stack.stop();
    await identityProvider.close();
  });

  it('walks the whole story and exits 0', async () => {
    const { code, output } = await runDemo({
      GRANT_SERVICE_URL: stack.grantService.url,
      TOKEN_SERVICE_URL: stack.tokenService.url,
      ACCOUNT_OIDC_ISSUER: identityProvider.issuer,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
      GRANT_EVENTS_TOPIC: stack.topic,
      BOOTSTRAP_CLIENT_ID: bootstrapClient.clientId,
      BOOTSTRAP_CLIENT_SECRET: bootstrapClient.clientSecret,
    });

    expect(output).toContain('the refresh now fails with invalid_grant ... ok');
    expect(output).toMatch(/v2 {2}GrantRevoked {2}actor=\{"id":"alice","type":"user"\} {2}reason=user/);
    expect(output).not.toContain('FAILED');
    expect(code).toBe(0);
  });

  it('exits non-zero at the first deviation', async () => {
    const { code, output } = await runDemo({
      GRANT_SERVICE_URL: stack.grantService.url,
      TOKEN_SERVICE_URL: stack.tokenService.url,
      BOOTSTRAP_CLIENT_ID: bootstrapClient.clientId,
      BOOTSTRAP_CLIENT_SECRET: 'a-wrong-secret-for-the-bootstrap-client',
    });

    expect(output).toContain('1. register a confidential client "Photo Printer" ... FAILED');
    expect(output).toContain('client_credentials for the bootstrap client answered 401');
    expect(code).toBe(1);
  });
});
