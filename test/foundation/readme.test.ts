import { readFileSync } from 'node:fs';

import { grantProjectorVariables } from '../../apps/grant-projector/src/config/grant-projector.config.js';
import { grantServiceVariables } from '../../apps/grant-service/src/config/grant-service.config.js';
import { tokenServiceVariables } from '../../apps/token-service/src/config/token-service.config.js';
import { parseEnvFile } from '../../scripts/env-file.mjs';

const readme = readFileSync('README.md', 'utf8');
const documented = new Set([...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((match) => match[1]));
const variables = new Set([...Object.keys(grantServiceVariables), ...Object.keys(tokenServiceVariables), ...Object.keys(grantProjectorVariables)]);

describe('README configuration table', () => {
  it('documents every variable the apps read', () => {
    expect([...variables].filter((name) => !documented.has(name))).toEqual([]);
  });

  it('documents no variable the apps ignore', () => {
    expect([...documented].filter((name) => !variables.has(name))).toEqual([]);
  });

  it('names the two setup commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
});

describe('.env.example', () => {
  it('sets only variables the apps or npm start read', () => {
    const names = Object.keys(parseEnvFile(readFileSync('.env.example', 'utf8')));
    expect(names.filter((name) => !variables.has(name) && name !== 'DEV_IDENTITY_PROVIDER_PORT')).toEqual([]);
  });
});

describe('.ci/run', () => {
  it('runs exactly the test command of the README', () => {
    const script = readFileSync('.ci/run', 'utf8');
    expect(script).toMatch(/^npm ci$/m);
    expect(script).toMatch(/^npm test$/m);
  });
});
