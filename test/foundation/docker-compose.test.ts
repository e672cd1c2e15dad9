import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { ZodType } from 'zod';

import { grantProjectorVariables } from '../../apps/grant-projector/src/config/grant-projector.config.js';
import { grantServiceVariables } from '../../apps/grant-service/src/config/grant-service.config.js';
import { tokenServiceVariables } from '../../apps/token-service/src/config/token-service.config.js';

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };

const apps: Array<[string, Record<string, ZodType>, string]> = [
  ['grant-service', grantServiceVariables, 'GRANT_SERVICE_PORT'],
  ['token-service', tokenServiceVariables, 'TOKEN_SERVICE_PORT'],
  ['grant-projector', grantProjectorVariables, 'GRANT_PROJECTOR_PORT'],
];

/** Lists the variables whose schema rejects an absent value, that is, those without a default. */
function requiredVariables(variables: Record<string, ZodType>): string[] {
  return Object.entries(variables)
    .filter(([, schema]) => !schema.safeParse(undefined).success)
    .map(([name]) => name);
}

describe('docker-compose.yml', () => {
  it('runs PostgreSQL, the official Kafka image and the migration', () => {
    expect(compose.services.postgres.image).toMatch(/^postgres:/);
    expect(compose.services.kafka.image).toMatch(/^apache\/kafka:/);
    expect(compose.services.migrate.command).toContain('dist/libs/persistence/src/prepare-database.main.js');
  });

  describe.each(apps)('service %s', (app, variables, portVariable) => {
    const service = compose.services[app];

    it('runs the app entry point', () => {
      expect(service.command).toEqual(['node', `dist/apps/${app}/src/main.js`]);
    });

    it('sets every variable the app requires', () => {
      const missing = requiredVariables(variables).filter((name) => service.environment?.[name] === undefined);
      expect(missing).toEqual([]);
    });

    it('sets only variables the app reads', () => {
      const unknown = Object.keys(service.environment ?? {}).filter((name) => !(name in variables));
      expect(unknown).toEqual([]);
    });

    it('passes a valid configuration', () => {
      const environment = Object.fromEntries(Object.entries(service.environment ?? {}).map(([name, value]) => [name, String(value)]));
      for (const [name, schema] of Object.entries(variables)) {
        expect({ name, result: schema.safeParse(environment[name]).success }).toEqual({ name, result: true });
      }
    });

    it('reaches other services by their compose names', () => {
      // An issuer is an identifier that clients on the host compare, so it may name 127.0.0.1.
      const loopback = Object.entries(service.environment ?? {}).filter(
        ([name, value]) => !name.endsWith('_ISSUER') && /127\.0\.0\.1|localhost/.test(String(value)),
      );
      expect(loopback).toEqual([]);
    });

    it('publishes the port the app listens on', () => {
      const port = String(service.environment?.[portVariable]);
      expect(service.ports).toContain(`127.0.0.1:${port}:${port}`);
    });
  });
});
