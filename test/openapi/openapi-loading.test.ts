import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { findProjectRoot, loadOpenApiDocument } from '#platform/openapi/openapi-document.js';

describe('when an app loads its OpenAPI document', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'openapi-'));
    mkdirSync(path.join(root, 'docs'));
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('finds the project root above the module', () => {
    expect(findProjectRoot()).toBe(path.resolve(import.meta.dirname, '..', '..'));
  });

  it('keeps the YAML text and serves the same document as JSON', () => {
    writeFileSync(path.join(root, 'docs', 'api.yaml'), '# A comment.\nopenapi: 3.1.0\ninfo: {title: t, version: "1"}\npaths: {}\n');

    const loaded = loadOpenApiDocument('docs/api.yaml', root);

    expect(loaded.yaml).toContain('# A comment.');
    expect(JSON.parse(loaded.json)).toEqual({ openapi: '3.1.0', info: { title: 't', version: '1' }, paths: {} });
  });

  it('rejects a missing file naming its path', () => {
    expect(() => loadOpenApiDocument('docs/missing.yaml', root)).toThrow(`${path.join(root, 'docs', 'missing.yaml')} was not found`);
  });

  it('rejects invalid YAML', () => {
    writeFileSync(path.join(root, 'docs', 'api.yaml'), 'openapi: 3.1.0\npaths: {\n');

    expect(() => loadOpenApiDocument('docs/api.yaml', root)).toThrow('is not valid YAML');
  });

  it('rejects a repeated key', () => {
    writeFileSync(path.join(root, 'docs', 'api.yaml'), 'openapi: 3.1.0\npaths: {}\npaths: {}\n');

    expect(() => loadOpenApiDocument('docs/api.yaml', root)).toThrow('is not valid YAML');
  });

  it.each([
    ['an OpenAPI 3.0 document', 'openapi: 3.0.3\npaths: {}\n'],
    ['a document without paths', 'openapi: 3.1.0\ninfo: {title: t, version: "1"}\n'],
    ['a list', '- openapi: 3.1.0\n'],
  ])('rejects %s', (_case, text) => {
    writeFileSync(path.join(root, 'docs', 'api.yaml'), text);

    expect(() => loadOpenApiDocument('docs/api.yaml', root)).toThrow('must be a mapping with openapi: 3.1.x and a paths mapping');
  });
});
