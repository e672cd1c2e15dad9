import { z } from 'zod';

import { developmentDefaults } from '#config/development-defaults.js';
import { commonVariables, integerVariable, kafkaTopicVariable, portVariable } from '#config/environment-variables.js';
import { loadConfig } from '#config/load-config.js';
import { grpcPortVariable } from '#grpc/grpc-port-variable.js';

/** Builds the schema of an absolute http(s) URL without query or fragment, and removes a trailing slash. */
function baseUrlVariable(example: string) {
  const message = `must be an absolute http or https URL without query or fragment, such as ${example}`;
  return z
    .string({ error: `is missing; expected a URL such as ${example}` })
    .refine(
      (value) => {
        try {
          const url = new URL(value);
          return (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === '';
        } catch {
          return false;
        }
      },
      { error: message },
    )
    .transform((value) => value.replace(/\/+$/, ''));
}

/** The AES-256-GCM key that encrypts the signing keys at rest: 32 bytes in standard base64. */
const keyEncryptionKeyVariable = z
  .string({ error: 'is missing; expected 32 random bytes in base64, for example from `openssl rand -base64 32`' })
  .refine((value) => /^[A-Za-z0-9+/]{43}=$/.test(value) && Buffer.from(value, 'base64').length === 32, {
    error: 'must be 32 bytes in standard base64 (44 characters ending in "="), for example from `openssl rand -base64 32`',
  })
  .transform((value) => Buffer.from(value, 'base64'));

export const tokenServiceVariables = {
  ...commonVariables,
  TOKEN_SERVICE_PORT: portVariable.default(3001),
  /** Port of the gRPC token API, bound to HTTP_HOST; 0 picks a free port. */
  TOKEN_SERVICE_GRPC_PORT: grpcPortVariable.default(50052),
  /** The `iss` of every token and the base URL of the endpoints in the RFC 8414 metadata. */
  TOKEN_ISSUER: baseUrlVariable('http://127.0.0.1:3001').default(developmentDefaults.TOKEN_ISSUER),
  /** The `aud` of every access token (RFC 9068 §2.2). */
  TOKEN_ACCESS_TOKEN_AUDIENCE: z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, { error: 'must be 1 to 255 visible ASCII characters' })
    .default('offline-grants-api'),
  /** Algorithm of newly created signing keys; existing keys keep the algorithm they were made with. */
  TOKEN_SIGNING_ALG: z.enum(['EdDSA', 'ES256'], { error: 'must be EdDSA or ES256' }).default('EdDSA'),
  TOKEN_KEY_ENCRYPTION_KEY: keyEncryptionKeyVariable.prefault(developmentDefaults.TOKEN_KEY_ENCRYPTION_KEY),
  /**
   * How long a rotated key is only published before it signs, so that verifiers that cache the
   * JWKS have fetched it. 600 s is the default JWKS cache age of jose's createRemoteJWKSet (6.x).
   */
  TOKEN_KEY_PUBLISH_DELAY_SECONDS: integerVariable(0, 86_400, 'seconds').default(600),
  /** How often an instance reloads the signing keys, to pick up rotations made elsewhere. */
  TOKEN_KEY_RELOAD_INTERVAL_SECONDS: integerVariable(1, 3600, 'seconds').default(10),
  BOOTSTRAP_CLIENT_ID: z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, { error: 'must be 1 to 255 visible ASCII characters' })
    .default(developmentDefaults.BOOTSTRAP_CLIENT_ID),
  BOOTSTRAP_CLIENT_SECRET: z
    .string()
    .regex(/^[\x21-\x7e]{16,255}$/, { error: 'must be 16 to 255 visible ASCII characters' })
    .default(developmentDefaults.BOOTSTRAP_CLIENT_SECRET),
  /** Base URL of the grant service, which revokes grants (`DELETE /v1/grants/{grant_id}`). */
  GRANT_SERVICE_URL: baseUrlVariable('http://127.0.0.1:3000').default(developmentDefaults.GRANT_SERVICE_URL),
  GRANT_SERVICE_TIMEOUT_MS: integerVariable(100, 60_000, 'milliseconds').default(5000),
  /** Above this, refresh and offline-token issuance return 503 instead of trusting the projection. */
  TOKEN_MAX_PROJECTION_STALENESS_SECONDS: integerVariable(1, 3600, 'seconds').default(5),
  TOKEN_FRESHNESS_INTERVAL_MS: integerVariable(100, 60_000, 'milliseconds').default(1000),
  /** `relay_name` of the relay's row in relay_checkpoints; the relay names it after its topic, the default here. */
  RELAY_NAME: z.string().min(1).max(255).optional(),
  GRANT_PROJECTOR_GROUP_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, { error: 'must be a Kafka consumer group id: 1 to 249 letters, digits, ".", "_" or "-"' })
    .default('grant-projector'),
  GRANT_EVENTS_TOPIC: kafkaTopicVariable.default('grant-events'),
  /** How long offline-token issuance waits for the projection to reach `min_position`. */
  TOKEN_MIN_POSITION_WAIT_MS: integerVariable(0, 30_000, 'milliseconds').default(2000),
  /** Minimum time between two writes of a grant's last use, which also bounds the idle-timeout precision. */
  TOKEN_LAST_USED_WRITE_INTERVAL_SECONDS: integerVariable(1, 3600, 'seconds').default(60),
  /** How often recorded last uses are written to the database, in one batch, off the request path. */
  TOKEN_LAST_USED_FLUSH_INTERVAL_MS: integerVariable(10, 60_000, 'milliseconds').default(1000),
  /**
   * Prefix of the consumer group id of each instance's in-memory grant state. The instance appends
   * its host name, process id and a random suffix, because every instance must read every event.
   */
  TOKEN_GRANT_STATE_GROUP_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, { error: 'must be 1 to 200 letters, digits, ".", "_" or "-"' })
    .default('token-service-grant-state'),
  /** Rows per cursor fetch when the grant state is loaded from the projection at start. */
  TOKEN_GRANT_STATE_FETCH_SIZE: integerVariable(100, 100_000, 'rows').default(20_000),
  /** How long a client read from the database is reused, or 0 to read it on every request. */
  TOKEN_CLIENT_CACHE_TTL_SECONDS: integerVariable(0, 3600, 'seconds').default(5),
};

export type TokenServiceConfig = ReturnType<typeof loadTokenServiceConfig>;

export function loadTokenServiceConfig(environment: Record<string, string | undefined> = process.env) {
  const config = loadConfig('token-service', tokenServiceVariables, environment);
  return { ...config, RELAY_NAME: config.RELAY_NAME ?? config.GRANT_EVENTS_TOPIC };
}

const cliVariables = {
  NODE_ENV: tokenServiceVariables.NODE_ENV,
  DATABASE_URL: tokenServiceVariables.DATABASE_URL,
  TOKEN_SIGNING_ALG: tokenServiceVariables.TOKEN_SIGNING_ALG,
  TOKEN_KEY_ENCRYPTION_KEY: tokenServiceVariables.TOKEN_KEY_ENCRYPTION_KEY,
  TOKEN_KEY_PUBLISH_DELAY_SECONDS: tokenServiceVariables.TOKEN_KEY_PUBLISH_DELAY_SECONDS,
};

export type TokenCliConfig = ReturnType<typeof loadTokenCliConfig>;

/** Loads the variables that the `client` and `keys` commands need, checked like the service's own. */
export function loadTokenCliConfig(commandName: string, environment: Record<string, string | undefined> = process.env) {
  return loadConfig(commandName, cliVariables, environment);
}

export const TOKEN_SERVICE_CONFIG = Symbol('TOKEN_SERVICE_CONFIG');
