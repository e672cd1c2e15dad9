import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { developmentDefaults } from '#config/development-defaults.js';
import { parseEnvFile } from '../../scripts/env-file.mjs';

const apps = ['grant-service', 'token-service', 'grant-projector'];
const envExample = parseEnvFile(readFileSync('.env.example', 'utf8'));

/** Runs an app's built entry point with exactly `environment` and returns its exit code and stderr. */
function boot(app: string, environment: Record<string, string>) {
  const result = spawnSync(process.execPath, [`dist/apps/${app}/src/main.js`], {
    env: { PATH: process.env.PATH ?? '', ...environment },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stderr: result.stderr };
}

describe('when the configuration is wrong', () => {
  const valid: Record<string, string> = { ...envExample, NODE_ENV: 'test', LOG_LEVEL: 'silent' };

  it.each(apps)('%s stops naming a missing variable', (app) => {
    const { DATABASE_URL: _omitted, ...withoutDatabase } = valid;
    const { status, stderr } = boot(app, withoutDatabase);
    expect(status).toBe(1);
    expect(stderr).toContain('DATABASE_URL is missing');
  });

  it.each(apps)('%s stops naming a malformed variable', (app) => {
    const { status, stderr } = boot(app, { ...valid, KAFKA_BROKERS: 'localhost' });
    expect(status).toBe(1);
    expect(stderr).toContain('KAFKA_BROKERS must be a comma-separated list of host:port');
  });

  it('reports every bad variable at once', () => {
    const { status, stderr } = boot('grant-service', { ...valid, DATABASE_URL: 'mysql://x/y', GRANT_SERVICE_PORT: '70000' });
    expect(status).toBe(1);
    expect(stderr).toContain('DATABASE_URL must be a URL such as postgres://');
    expect(stderr).toContain('GRANT_SERVICE_PORT must be a TCP port number from 1 to 65535');
  });

  it.each(apps)('%s refuses development values in production', (app) => {
    const { status, stderr } = boot(app, { ...valid, NODE_ENV: 'production' });
    expect(status).toBe(1);
    expect(stderr).toContain('DATABASE_URL still has its development value from .env.example');
  });
});

describe('.env.example', () => {
  it.each(Object.entries(developmentDefaults))('holds the development value of %s', (name, value) => {
    expect(envExample[name]).toBe(value);
  });
});
