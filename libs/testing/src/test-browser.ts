import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium; playwright-core drives it and never downloads a browser of its own. */
export const chromiumPath = '/usr/bin/chromium';

/**
 * Chromium flags for tests. Without the background-networking, component-update and sync flags
 * Chromium opens outbound connections on its own, which this environment refuses.
 */
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Runs scripts/ensure-chromium.sh, which installs Debian's chromium package when it is missing. */
export function ensureChromium(): void {
  const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  execFileSync('bash', [path.join(projectRoot, 'scripts/ensure-chromium.sh')], { stdio: 'inherit', timeout: 600_000 });
}

/** Checks whether a URL points at this machine's loopback interface. */
function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

/**
 * A headless Chromium with a fresh profile, deleted again on close. Requests to any host other
 * than the loopback interface are aborted before they leave the browser, so that a page under
 * test, such as oidc-provider's development login page with its web-font import, reaches only
 * the servers the test started.
 */
export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchTestBrowser(viewport = { width: 1280, height: 900 }): Promise<TestBrowser> {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'og-chromium-'));
  // Playwright passes the profile folder as --user-data-dir itself.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    viewport,
  });
  await context.route((url) => !isLoopback(url) && url.protocol !== 'data:', (route) => route.abort('blockedbyclient'));
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
