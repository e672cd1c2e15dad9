// A development OpenID provider for `npm start`, so that the account page can be signed in to on a
// fresh machine: users `alice` and `bob`, any password, the account page as its only client.
// It is the test provider from this kit; never point a real deployment at it.
import { integerVariable } from '#config/environment-variables.js';
import { loadConfig } from '#config/load-config.js';

import { listenTestOidcProvider } from './test-oidc-provider.js';

const config = loadConfig('dev-identity-provider', {
  DEV_IDENTITY_PROVIDER_PORT: integerVariable(1, 65_535, 'port').default(3003),
  GRANT_SERVICE_PORT: integerVariable(1, 65_535, 'port').default(3000),
});

const provider = await listenTestOidcProvider(config.DEV_IDENTITY_PROVIDER_PORT);
await provider.start({
  client: {
    clientId: process.env.ACCOUNT_OIDC_CLIENT_ID ?? 'offline-grants-account',
    redirectUris: [`http://127.0.0.1:${config.GRANT_SERVICE_PORT}/account`, `http://localhost:${config.GRANT_SERVICE_PORT}/account`],
  },
  users: [
    { id: 'alice', name: 'Alice Example' },
    { id: 'bob', name: 'Bob Example' },
  ],
  audience: process.env.ACCOUNT_OIDC_AUDIENCE ?? 'urn:offline-grants:account',
});
console.log(JSON.stringify({ level: 'info', msg: 'Development identity provider started', issuer: provider.issuer, users: ['alice', 'bob'] }));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void provider.close().finally(() => process.exit(0));
  });
}
