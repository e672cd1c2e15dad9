import { commonVariables, portVariable } from '#config/environment-variables.js';
import { loadConfig } from '#config/load-config.js';

export const tokenServiceVariables = {
  ...commonVariables,
  TOKEN_SERVICE_PORT: portVariable.default(3001),
};

export type TokenServiceConfig = ReturnType<typeof loadTokenServiceConfig>;

export function loadTokenServiceConfig(environment: Record<string, string | undefined> = process.env) {
  return loadConfig('token-service', tokenServiceVariables, environment);
}

export const TOKEN_SERVICE_CONFIG = Symbol('TOKEN_SERVICE_CONFIG');
