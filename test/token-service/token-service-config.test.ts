import { ConfigError } from '#config/config-error.js';
import { developmentDefaults } from '#config/development-defaults.js';

import { loadTokenServiceConfig } from '../../apps/token-service/src/config/token-service.config.js';

const valid = {
  NODE_ENV: 'test',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/offline_grants',
  KAFKA_BROKERS: '127.0.0.1:9092',
};

function problemsOf(environment: Record<string, string>): string[] {
  try {
    loadTokenServiceConfig(environment);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('when the token service reads its configuration', () => {
  it('applies the defaults', () => {
    const config = loadTokenServiceConfig(valid);
    expect(config).toMatchObject({
      TOKEN_ISSUER: 'http://127.0.0.1:3001',
      TOKEN_ACCESS_TOKEN_AUDIENCE: 'offline-grants-api',
      TOKEN_SIGNING_ALG: 'EdDSA',
      TOKEN_KEY_PUBLISH_DELAY_SECONDS: 600,
      TOKEN_MAX_PROJECTION_STALENESS_SECONDS: 5,
      RELAY_NAME: 'grant-events',
      GRANT_SERVICE_URL: 'http://127.0.0.1:3000',
      GRANT_PROJECTOR_GROUP_ID: 'grant-projector',
      GRANT_EVENTS_TOPIC: 'grant-events',
      BOOTSTRAP_CLIENT_ID: 'bootstrap-service',
    });
    expect(config.TOKEN_KEY_ENCRYPTION_KEY).toHaveLength(32);
  });

  it('names the relay after the topic unless RELAY_NAME is set', () => {
    expect(loadTokenServiceConfig({ ...valid, GRANT_EVENTS_TOPIC: 'grants-v2' }).RELAY_NAME).toBe('grants-v2');
    expect(loadTokenServiceConfig({ ...valid, GRANT_EVENTS_TOPIC: 'grants-v2', RELAY_NAME: 'legacy' }).RELAY_NAME).toBe('legacy');
  });

  it('removes a trailing slash from the issuer', () => {
    expect(loadTokenServiceConfig({ ...valid, TOKEN_ISSUER: 'https://auth.example.com/' }).TOKEN_ISSUER).toBe('https://auth.example.com');
  });

  it.each([
    ['TOKEN_KEY_ENCRYPTION_KEY', Buffer.alloc(16).toString('base64'), 'TOKEN_KEY_ENCRYPTION_KEY must be 32 bytes in standard base64'],
    ['TOKEN_SIGNING_ALG', 'RS256', 'TOKEN_SIGNING_ALG must be EdDSA or ES256'],
    ['TOKEN_ISSUER', 'https://auth.example.com/?tenant=a', 'TOKEN_ISSUER must be an absolute http or https URL without query or fragment'],
    ['GRANT_SERVICE_URL', 'grants.internal', 'GRANT_SERVICE_URL must be an absolute http or https URL'],
    ['TOKEN_MAX_PROJECTION_STALENESS_SECONDS', '0', 'TOKEN_MAX_PROJECTION_STALENESS_SECONDS must be a whole number of seconds from 1 to 3600'],
    ['BOOTSTRAP_CLIENT_SECRET', 'short', 'BOOTSTRAP_CLIENT_SECRET must be 16 to 255 visible ASCII characters'],
    ['GRANT_PROJECTOR_GROUP_ID', 'group id', 'GRANT_PROJECTOR_GROUP_ID must be a Kafka consumer group id'],
  ])('rejects a malformed %s naming it', (name, value, message) => {
    const problems = problemsOf({ ...valid, [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  it('rejects the development secrets in production, set or left unset', () => {
    const production = { ...valid, NODE_ENV: 'production', DATABASE_URL: 'postgres://db.internal:5432/grants', KAFKA_BROKERS: 'kafka.internal:9092' };
    const unset = problemsOf(production).join('\n');
    for (const name of ['TOKEN_KEY_ENCRYPTION_KEY', 'BOOTSTRAP_CLIENT_ID', 'BOOTSTRAP_CLIENT_SECRET', 'TOKEN_ISSUER', 'GRANT_SERVICE_URL']) {
      expect(unset).toContain(name);
    }
    const leftAtDevelopmentValue = problemsOf({ ...production, BOOTSTRAP_CLIENT_SECRET: developmentDefaults.BOOTSTRAP_CLIENT_SECRET }).join('\n');
    expect(leftAtDevelopmentValue).toContain('BOOTSTRAP_CLIENT_SECRET still has its development value');
  });
});
