import { commonVariables, portVariable } from '#config/environment-variables.js';
import { loadConfig } from '#config/load-config.js';

export const grantProjectorVariables = {
  ...commonVariables,
  GRANT_PROJECTOR_PORT: portVariable.default(3002),
};

export type GrantProjectorConfig = ReturnType<typeof loadGrantProjectorConfig>;

export function loadGrantProjectorConfig(environment: Record<string, string | undefined> = process.env) {
  return loadConfig('grant-projector', grantProjectorVariables, environment);
}

export const GRANT_PROJECTOR_CONFIG = Symbol('GRANT_PROJECTOR_CONFIG');
