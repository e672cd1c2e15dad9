/** Thrown at boot when one or more environment variables are missing or malformed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly appName: string,
    readonly problems: readonly string[],
  ) {
    super(`${appName} cannot start because of its configuration:\n${problems.map((line) => `  - ${line}`).join('\n')}`);
  }
}
