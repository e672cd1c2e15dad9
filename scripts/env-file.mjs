// Reads the KEY=value files `.env` and `.env.example`; shared by the scripts and the tests.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Parses KEY=value lines; `#` starts a comment line; values may be wrapped in single or double quotes. */
export function parseEnvFile(text) {
  const variables = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match || line.trimStart().startsWith('#')) continue;
    variables[match[1]] = match[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return variables;
}

/**
 * Returns the variables for a command run from this checkout: the development values of
 * `.env.example`, overridden by `.env`, overridden by the shell's environment.
 */
export function loadProjectEnvironment(projectRoot, shellEnvironment = process.env) {
  const fromFile = (name) => {
    const file = path.join(projectRoot, name);
    return existsSync(file) ? parseEnvFile(readFileSync(file, 'utf8')) : {};
  };
  return { ...fromFile('.env.example'), ...fromFile('.env'), ...shellEnvironment };
}
