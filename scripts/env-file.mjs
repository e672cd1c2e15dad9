// Reads the KEY=value files `.env` and `.env.example`; shared by scripts/start.mjs and the tests.

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
