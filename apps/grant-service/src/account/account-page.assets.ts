import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One static file of the account page, read once at start. */
export interface AccountPageAsset {
  body: Buffer;
  contentType: string;
}

/** Files the account page consists of, by the name they are served under /account/. */
const assetTypes: Readonly<Record<string, string>> = {
  'account.html': 'text/html; charset=utf-8',
  'account.js': 'text/javascript; charset=utf-8',
  'account.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

/** Folder of the files inside the project, beside this module's source. */
const assetDirectoryInProject = path.join('apps', 'grant-service', 'src', 'account', 'public');

/**
 * Finds the `public` folder. Tests run this module from its source folder, which contains it.
 * The compiled module runs from `dist/`, which does not, so the search walks up to the project
 * root (the folder whose package.json is named offline-grants) and uses the source copy there.
 */
function findAssetDirectory(): string {
  const moduleDirectory = path.dirname(fileURLToPath(import.meta.url));
  const besideModule = path.join(moduleDirectory, 'public');
  if (existsSync(besideModule)) return besideModule;

  for (let directory = moduleDirectory; ; directory = path.dirname(directory)) {
    const manifest = path.join(directory, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'offline-grants') {
      return path.join(directory, assetDirectoryInProject);
    }
    if (path.dirname(directory) === directory) {
      throw new Error(`the account page files were not found: no ${assetDirectoryInProject} above ${moduleDirectory}`);
    }
  }
}

/** Reads every account page file; raises at start when one is missing, instead of on the first request. */
export function loadAccountPageAssets(): ReadonlyMap<string, AccountPageAsset> {
  const directory = findAssetDirectory();
  return new Map(
    Object.entries(assetTypes).map(([name, contentType]) => [name, { body: readFileSync(path.join(directory, name)), contentType }]),
  );
}
