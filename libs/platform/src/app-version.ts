import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedVersion: string | undefined;

/** The project's version from its package.json, found by walking up from this file. */
export function appVersion(): string {
  if (cachedVersion) return cachedVersion;
  let directory = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(directory, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'offline-grants' && manifest.version) {
        cachedVersion = manifest.version;
        return cachedVersion;
      }
    } catch {
      // No package.json at this level: keep walking up.
    }
    const parent = path.dirname(directory);
    if (parent === directory) return '0.0.0';
    directory = parent;
  }
}
