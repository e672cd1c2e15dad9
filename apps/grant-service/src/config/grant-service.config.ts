import { commonVariables, portVariable } from '#config/environment-variables.js';
import { loadConfig } from '#config/load-config.js';

export const grantServiceVariables = {
  ...commonVariables,
  GRANT_SERVICE_PORT: portVariable.default(3000),
};

export type GrantServiceConfig = ReturnType<typeof loadGrantServiceConfig>;

export function loadGrantServiceConfig(environment: Record<string, string | undefined> = process.env) {
  return loadConfig('grant-service', grantServiceVariables, environment);
}

export const GRANT_SERVICE_CONFIG = Symbol('GRANT_SERVICE_CONFIG');
