/** Parses KEY=value lines; `#` starts a comment line; values may be wrapped in single or double quotes. */
export function parseEnvFile(text: string): Record<string, string>;
