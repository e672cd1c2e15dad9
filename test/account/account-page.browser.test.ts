// The account page in a real headless Chromium. The user signs in at a real OpenID provider
// (oidc-provider) with the authorization code flow and PKCE, sees the connected clients and removes
// one. The test follows that removal through the event store, Kafka, the projection and the token
// service.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { DataSource } from 'typeorm';

import { loadGrantServiceConfig } from '../../apps/grant-service/src/config/grant-service.config.js';
import { GrantServiceModule } from '../../apps/grant-service/src/grant-service.module.js';
import { decodeGrantEvent } from '#grant-events/grant-event-codec.js';
import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';
import { dataSourceOptions } from '#persistence/data-source-options.js';
import type { StartedHttpApp } from '#platform/start-http-app.js';
import { seedGrants } from '#testing/grant-seeder.js';
import { startTestApp, testEnvironment } from '#testing/test-apps.js';
import { ensureChromium, launchTestBrowser, type TestBrowser } from '#testing/test-browser.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';
import { listenTestOidcProvider, type TestOidcProvider } from '#testing/test-oidc-provider.js';
import { waitFor } from '#testing/wait-for.js';

import { projectorNames, startProjector } from '../projector/projector-kit.js';
import { type ReadMessage, TopicReader, waitForTopic } from '../relay/topic-reader.js';
import { TokenServiceUnderTest } from '../token-service/support/token-service-harness.js';

const accountClientId = 'account-page';
const accountAudience = 'urn:offline-grants:account-api';
const artifactsDirectory = path.resolve('test-artifacts');

// Browser globals used inside page.evaluate callbacks, which run in the page; this project's
// TypeScript settings have no DOM library.
declare const document: { activeElement: { id: string; getAttribute(name: string): string | null } | null; documentElement: { scrollWidth: number } };
declare const window: { innerWidth: number };
declare const sessionStorage: { getItem(key: string): string | null };
declare const localStorage: { length: number };

interface ConsoleProblem {
  text: string;
  url: string;
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(artifactsDirectory, { recursive: true });
  await page.screenshot({ path: path.join(artifactsDirectory, name), fullPage: true });
}

/** Signs in from the account page through the provider's login and consent pages. */
async function signIn(page: Page, serviceUrl: string, userId: string): Promise<void> {
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('input[name="login"]').fill(userId);
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.locator('#grants:not([hidden])').waitFor();
  expect(page.url()).toBe(`${serviceUrl}/account`);
}

function rowFor(page: Page, clientName: string) {
  return page.locator('#grant-rows tr', { hasText: clientName });
}

describe('account page in a browser', () => {
  const names = projectorNames('account-page');
  let database: TestDatabase;
  let dataSource: DataSource;
  let provider: TestOidcProvider;
  let service: StartedHttpApp;
  let projector: StartedHttpApp;
  let tokenService: TokenServiceUnderTest;
  let reader: TopicReader;
  let browser: TestBrowser;
  let page: Page;
  const consoleProblems: ConsoleProblem[] = [];

  let alicePrinter: RecordedGrantEvent;
  let aliceNews: RecordedGrantEvent;
  let bobPrinter: RecordedGrantEvent;
  const clients: Record<string, { clientId: string; clientSecret: string }> = {};
  const refreshTokens: Record<string, string> = {};

  beforeAll(async () => {
    ensureChromium();
    database = await createTestDatabase('account_page');
    dataSource = new DataSource(dataSourceOptions({ databaseUrl: database.url, applicationName: 'account-page-test' }));
    await dataSource.initialize();

    provider = await listenTestOidcProvider();
    const environment = testEnvironment(database.url, {
      GRANT_EVENTS_TOPIC: names.topic,
      ACCOUNT_OIDC_ISSUER: provider.issuer,
      ACCOUNT_OIDC_CLIENT_ID: accountClientId,
      ACCOUNT_OIDC_AUDIENCE: accountAudience,
    });
    service = await startTestApp('grant-service', GrantServiceModule.forRoot(loadGrantServiceConfig(environment)));
    await provider.start({
      client: { clientId: accountClientId, redirectUris: [`${service.url}/account`] },
      users: [
        { id: 'alice', name: 'Alice Example' },
        { id: 'bob', name: 'Bob Example' },
      ],
      audience: accountAudience,
    });

    await waitForTopic(names.topic);
    projector = await startProjector(database.url, names);
    reader = await TopicReader.start(names.topic);
    tokenService = await TokenServiceUnderTest.start({
      databaseUrl: database.url,
      environment: { GRANT_EVENTS_TOPIC: names.topic, GRANT_PROJECTOR_GROUP_ID: names.groupId },
    });

    clients.printer = await tokenService.createClient({ clientId: 'photo-printer', name: 'Photo Printer' });
    clients.news = await tokenService.createClient({ clientId: 'news-reader', name: 'News Reader', offlineMaxLifetimeSeconds: 31_536_000 });
    [alicePrinter, aliceNews, bobPrinter] = await seedGrants(dataSource, [
      { userId: 'alice', clientId: 'photo-printer', scopes: ['offline_access', 'openid', 'photos:read'] },
      { userId: 'alice', clientId: 'news-reader', scopes: ['offline_access', 'openid'] },
      { userId: 'bob', clientId: 'photo-printer', scopes: ['openid', 'photos:read'] },
    ]);
    await waitFor(
      async () => {
        const rows: unknown[] = await dataSource.query("SELECT 1 FROM grants WHERE status = 'active'");
        return rows.length === 3;
      },
      { timeoutMs: 30_000, description: 'three active projection rows' },
    );
    refreshTokens.printer = (await tokenService.issueOfflineToken(alicePrinter.grantId)).refresh_token;
    refreshTokens.news = (await tokenService.issueOfflineToken(aliceNews.grantId)).refresh_token;

    browser = await launchTestBrowser();
    page = await browser.context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') consoleProblems.push({ text: message.text(), url: message.location().url });
    });
    page.on('pageerror', (error) => consoleProblems.push({ text: error.message, url: page.url() }));
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await reader?.stop();
    await tokenService?.close();
    await projector?.app.close();
    await service?.app.close();
    await provider?.close();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('signs in and lists both clients of the user', async () => {
    await page.goto(`${service.url}/account`);

    await signIn(page, service.url, 'alice');

    await expect(page.locator('#grant-rows tr').count()).resolves.toBe(2);
    await expect(rowFor(page, 'Photo Printer').textContent()).resolves.toContain('photos:read');
    await expect(rowFor(page, 'News Reader').locator('.offline-badge').textContent()).resolves.toContain('Offline access');
    await expect(rowFor(page, 'Photo Printer').locator('td[data-label="Expires"]').textContent()).resolves.toBe('Never');
    await expect(rowFor(page, 'News Reader').locator('td[data-label="Expires"] time').count()).resolves.toBe(1);
    await expect(page.locator('#user-name').textContent()).resolves.toBe('Alice Example');
    await screenshot(page, 'account-page-before.png');
  });

  it('keeps tokens out of the URL, cookies and localStorage', async () => {
    const storage = await page.evaluate(() => ({ session: sessionStorage.getItem('account.session'), local: localStorage.length }));

    const accessToken: string = JSON.parse(storage.session ?? '{}').accessToken;
    expect(page.url()).not.toMatch(/[?#]/);
    expect(accessToken).toEqual(expect.any(String));
    expect(storage.local).toBe(0);
    // Cookies are per host, not per port, so the provider's session cookies show up here too.
    const cookies = await browser.context.cookies(service.url);
    expect(cookies.filter((cookie) => cookie.value.includes(accessToken) || accessToken.includes(cookie.value))).toEqual([]);
  });

  it('keeps the access when the confirmation is cancelled with Escape', async () => {
    const removeButton = page.getByRole('button', { name: 'Remove access for News Reader' });
    await removeButton.focus();
    await page.keyboard.press('Enter');
    await page.locator('#confirm-dialog[open]').waitFor();

    expect(await page.evaluate(() => document.activeElement?.id)).toBe('confirm-cancel');
    await page.keyboard.press('Escape');

    await page.locator('#confirm-dialog[open]').waitFor({ state: 'detached' });
    await expect(page.locator('#grant-rows tr').count()).resolves.toBe(2);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Remove access for News Reader');
  });

  it('removes one client after confirmation with the keyboard', async () => {
    await page.keyboard.press('Enter');
    await page.locator('#confirm-dialog[open]').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('confirm-remove');

    await page.keyboard.press('Enter');

    await rowFor(page, 'News Reader').waitFor({ state: 'detached' });
    await expect(page.locator('#status').textContent()).resolves.toBe('Access for News Reader was removed.');
    await expect(page.locator('#grant-rows tr').count()).resolves.toBe(1);
    await screenshot(page, 'account-page-after.png');
  });

  it('records the revocation with the user as actor', async () => {
    const events: Array<{ type: string; data: { reason: string; actor: unknown } }> = await dataSource.query(
      'SELECT type, data FROM grant_events WHERE grant_id = $1 ORDER BY version',
      [aliceNews.grantId],
    );

    expect(events.map((event) => event.type)).toEqual(['GrantCreated', 'GrantRevoked']);
    expect(events[1].data.reason).toBe('user');
    expect(events[1].data.actor).toEqual({ type: 'user', id: 'alice' });
  });

  it('publishes GrantRevoked naming the user as actor', async () => {
    const message = await waitFor(
      () =>
        reader.messages.find(
          (candidate: ReadMessage) =>
            candidate.headers.ce_subject === aliceNews.grantId && candidate.headers.ce_type === 'dev.offline-grants.grant.revoked.v1',
        ),
      { timeoutMs: 30_000, description: 'GrantRevoked on the topic' },
    );

    const { event } = decodeGrantEvent(message.raw);
    expect(event.type).toBe('GrantRevoked');
    expect(event.data.actor).toEqual({ type: 'user', id: 'alice' });
    expect(event.type === 'GrantRevoked' ? event.data.reason : undefined).toBe('user');
  });

  it('revokes the projection row', async () => {
    const row = await waitFor(
      async () => {
        const rows: Array<{ status: string; revoke_reason: string }> = await dataSource.query(
          'SELECT status, revoke_reason FROM grants WHERE grant_id = $1',
          [aliceNews.grantId],
        );
        return rows[0]?.status === 'revoked' ? rows[0] : undefined;
      },
      { timeoutMs: 30_000, description: 'the revoked projection row' },
    );

    expect(row.revoke_reason).toBe('user');
  });

  it("rejects only the removed client's refresh token", async () => {
    const rejected = await waitFor(
      async () => {
        const response = await tokenService.refresh(clients.news, refreshTokens.news);
        return response.status === 400 ? response : undefined;
      },
      { timeoutMs: 30_000, description: 'the revoked refresh token to be rejected' },
    );
    const stillGranted = await tokenService.refresh(clients.printer, refreshTokens.printer);

    expect(((await rejected.json()) as { error: string }).error).toBe('invalid_grant');
    expect(stillGranted.status).toBe(200);
  });

  it('shows the remaining client after a reload', async () => {
    await page.reload();

    await page.locator('#grants:not([hidden])').waitFor();
    await expect(page.locator('#grant-rows tr').count()).resolves.toBe(1);
    await expect(rowFor(page, 'Photo Printer').count()).resolves.toBe(1);
  });

  it('passes the axe accessibility rules of WCAG 2.1 A and AA', async () => {
    const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    await page.evaluate(axeSource);

    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(options: object): Promise<{ violations: Array<{ id: string; nodes: unknown[] }> }> } }).axe;
      const result = await axe.run({ runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] });
      return result.violations.map((violation) => ({ id: violation.id, nodes: violation.nodes.length }));
    });

    expect(violations).toEqual([]);
  });

  it('fits a phone-width screen without sideways scrolling', async () => {
    await page.setViewportSize({ width: 360, height: 740 });

    const widths = await page.evaluate(() => ({ content: document.documentElement.scrollWidth, viewport: window.innerWidth }));

    expect(widths.content).toBeLessThanOrEqual(widths.viewport);
    await expect(page.getByRole('button', { name: 'Remove access for Photo Printer' }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'account-page-phone.png');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('logs no console error on the account page', () => {
    expect(consoleProblems.filter((problem) => problem.url.startsWith(service.url))).toEqual([]);
  });

  it("shows another user only their own grants and answers 404 for Alice's", async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await browser.context.clearCookies();

    await signIn(page, service.url, 'bob');

    await expect(page.locator('#grant-rows tr').count()).resolves.toBe(1);
    await expect(page.locator('#grant-rows tr').getAttribute('data-grant-id')).resolves.toBe(bobPrinter.grantId);
    const problemsBefore = consoleProblems.length;
    const status = await page.evaluate(async (grantId) => {
      const session = JSON.parse(sessionStorage.getItem('account.session') ?? '{}') as { accessToken: string };
      const response = await fetch(`/v1/account/grants/${grantId}`, { method: 'DELETE', headers: { authorization: `Bearer ${session.accessToken}` } });
      return response.status;
    }, alicePrinter.grantId);
    expect(status).toBe(404);
    // Chromium logs every failed fetch; this 404 is the only new console entry.
    expect(consoleProblems.slice(problemsBefore).map((problem) => problem.text)).toEqual([expect.stringContaining('404')]);
  });
});
