#!/usr/bin/env node
// Runs a built entry point with the project's variables: `.env.example`, then `.env`, then the shell,
// the same as `npm start` gives the apps. Usage: node scripts/with-env.mjs dist/path/to/main.js [args…]
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { loadProjectEnvironment } from './env-file.mjs';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/with-env.mjs <entry.js> [arguments]');
  process.exit(2);
}

Object.assign(process.env, loadProjectEnvironment(projectRoot));
process.argv = [process.argv[0], path.resolve(projectRoot, entry), ...args];
await import(pathToFileURL(path.resolve(projectRoot, entry)).href);
