/**
 * Development values of the variables, the same as in `.env.example` (a test keeps the two equal).
 * An app started with NODE_ENV=production refuses to run while any variable still has one of these
 * values, because they point at the local machine or are secrets published in this repository.
 */
export const developmentDefaults: Readonly<Record<string, string>> = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/offline_grants',
  KAFKA_BROKERS: '127.0.0.1:9092',
  GRANT_API_JWKS_URL: 'http://127.0.0.1:3001/.well-known/jwks.json',
  GRANT_API_ISSUER: 'http://127.0.0.1:3001',
  ACCOUNT_OIDC_ISSUER: 'http://127.0.0.1:3003',
  TOKEN_ISSUER: 'http://127.0.0.1:3001',
  GRANT_SERVICE_URL: 'http://127.0.0.1:3000',
  TOKEN_KEY_ENCRYPTION_KEY: 'nlMKIJvlb8PZudx5yFha2ir/KQQzko6Y14WHss++3iQ=',
  BOOTSTRAP_CLIENT_ID: 'bootstrap-service',
  BOOTSTRAP_CLIENT_SECRET: 'development-bootstrap-secret-change-me',
};
