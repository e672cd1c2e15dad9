/** Parses KEY=value lines; `#` starts a comment line; values may be wrapped in single or double quotes. */
export function parseEnvFile(text: string): Record<string, string>;

/** Returns `.env.example`, overridden by `.env`, overridden by the shell's environment. */
export function loadProjectEnvironment(projectRoot: string, shellEnvironment?: NodeJS.ProcessEnv): Record<string, string | undefined>;
