import { loadGrantServiceConfig } from '../../apps/grant-service/src/config/grant-service.config.js';
import { ConfigError } from '#config/config-error.js';

const base = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/offline_grants', KAFKA_BROKERS: '127.0.0.1:9092' };

function configProblems(environment: Record<string, string>): readonly string[] {
  try {
    loadGrantServiceConfig({ ...base, ...environment });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('loadGrantServiceConfig accepted the environment');
}

describe('account and bulk-revocation configuration', () => {
  describe('when the variables are unset', () => {
    it('leaves sign-in off with safe defaults', () => {
      const config = loadGrantServiceConfig(base);

      expect(config.ACCOUNT_OIDC_ISSUER).toBeUndefined();
      expect(config.ACCOUNT_OIDC_CLIENT_ID).toBe('offline-grants-account');
      expect(config.ACCOUNT_OIDC_SCOPE).toBe('openid profile');
      expect(config.ACCOUNT_OIDC_AUDIENCE).toBeUndefined();
      expect(config.ACCOUNT_OIDC_ALGORITHMS).toEqual(['RS256', 'PS256', 'ES256', 'EdDSA']);
      expect(config.ACCOUNT_OIDC_ACCESS_TOKEN_TYP).toBe('at+jwt');
    });
  });

  describe('when the variables are set', () => {
    it('reads a list of algorithms', () => {
      const config = loadGrantServiceConfig({ ...base, ACCOUNT_OIDC_ALGORITHMS: 'ES256, RS256' });

      expect(config.ACCOUNT_OIDC_ALGORITHMS).toEqual(['ES256', 'RS256']);
    });
  });

  describe('when a variable is invalid', () => {
    it.each([
      ['an issuer with a query', { ACCOUNT_OIDC_ISSUER: 'https://login.example.com/?tenant=1' }, 'ACCOUNT_OIDC_ISSUER must be an http or https URL'],
      ['an issuer that is not a URL', { ACCOUNT_OIDC_ISSUER: 'login.example.com' }, 'ACCOUNT_OIDC_ISSUER must be an http or https URL'],
      ['the none algorithm', { ACCOUNT_OIDC_ALGORITHMS: 'RS256,none' }, 'ACCOUNT_OIDC_ALGORITHMS must be a comma-separated list of'],
      ['an HMAC algorithm', { ACCOUNT_OIDC_ALGORITHMS: 'HS256' }, 'ACCOUNT_OIDC_ALGORITHMS must be a comma-separated list of'],
      ['a scope without openid', { ACCOUNT_OIDC_SCOPE: 'profile email' }, 'ACCOUNT_OIDC_SCOPE must include openid'],
      ['a client id with a space', { ACCOUNT_OIDC_CLIENT_ID: 'account page' }, 'ACCOUNT_OIDC_CLIENT_ID must be 1 to 255 visible ASCII characters'],
      ['a batch size of zero', { ADMIN_REVOCATION_BATCH_SIZE: '0' }, 'ADMIN_REVOCATION_BATCH_SIZE must be a whole number of grants from 1 to 10000'],
      ['a concurrency in words', { ADMIN_REVOCATION_CONCURRENCY: 'four' }, 'ADMIN_REVOCATION_CONCURRENCY must be a whole number of commands from 1 to 64'],
      ['an auto-resume of yes', { ADMIN_REVOCATION_AUTO_RESUME: 'yes' }, 'ADMIN_REVOCATION_AUTO_RESUME must be true or false'],
    ])('rejects %s', (_case, environment, expected) => {
      expect(configProblems(environment)).toEqual([expect.stringContaining(expected)]);
    });
  });
});
