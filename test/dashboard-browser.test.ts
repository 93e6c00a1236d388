/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core against a
 * real daemon (SQLite in a temp folder, the test kit's fake WhatsApp socket). One context
 * signs in with the admin token on a phone-sized screen, watches a QR appear and rotate,
 * asks for a pairing code, has the fake phone scan, sees the badge turn connected and a
 * message arrive without reloading, and logs the session out; a second context holding a
 * viewer JWT for another session sees none of it. A daemon with 100 sessions shows their
 * counts by state, filters them, and updates one row per event without rebuilding the list.
 * During a staggered start the sessions waiting for a connect slot say so, and one can be
 * connected at once ("Connect now").
 * Screenshots go to test/artifacts/.
 */
import { createDaemon, loadConfig, signDashboardToken, type Daemon, type DaemonConfig } from '@stickerbot/daemon';
import { createLogger } from '@stickerbot/runtime';
import { createFakeWa, type FakeWa, type FakeWaSession } from '@stickerbot/daemon/test-kit';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumAvailable, launchChromium } from './support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SECRET = 'browser-test-secret-0123456789abcdefghij';
const ARTIFACTS = join(import.meta.dirname, 'artifacts');
const ALICE = '4915100000001';
const WAIT = { timeout: 15_000 };

/** Logs the fake session in the way Baileys does after a scan: creds gain `me`, then the connection opens. */
async function scan(session: FakeWaSession, phone: string): Promise<void> {
  const socket = await session.waitForSocket();
  socket.options.auth.creds.me = { id: `${phone}:1@s.whatsapp.net`, name: 'Shop bot' };
  socket.emit('creds.update', { me: socket.options.auth.creds.me });
  session.open({ jid: phone, name: 'Shop bot' });
}

async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/dashboard/`);
  await page.locator('#token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

// .ci/run installs Debian's Chromium; on a machine without it this file cannot run at all.
// Skipped only where Debian's Chromium is not installed (.ci/run installs it).
describe.skipIf(!chromiumAvailable)('dashboard in Chromium', { timeout: 60_000 }, () => {
  let dataDir: string;
  let wa: FakeWa;
  let daemon: Daemon;
  let url: string;
  let adminToken: string;
  let config: DaemonConfig;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-dashboard-'));
    config = loadConfig({
      STICKERBOT_DATA_DIR: dataDir,
      STICKERBOT_PORT: '0',
      STICKERBOT_SESSIONS: 'shop,home',
      STICKERBOT_JWT_SECRET: SECRET,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    });
    wa = createFakeWa();
    daemon = createDaemon({ logger: createLogger({ service: 'stickerbot-daemon', level: config.logLevel }), socketFactory: wa.factory, processMetrics: false }, config);
    const address = await daemon.start();
    url = `http://127.0.0.1:${address.port}`;
    adminToken = daemon.token ?? '';
    // playwright-core's launch gives every run a fresh temporary user-data-dir of its own.
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await daemon?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  async function open(viewport: { width: number; height: number }): Promise<Page> {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    return context.newPage();
  }

  it('links, pairs and logs out a session live, while a viewer of another session sees none of it', async () => {
    const admin = await open({ width: 390, height: 844 });
    const viewer = await open({ width: 1200, height: 800 });

    await signIn(admin, url, adminToken);
    await admin.locator('[data-session="shop"][data-live="true"]').waitFor(WAIT);
    await admin.locator('[data-session="home"][data-live="true"]').waitFor(WAIT);
    await expect.poll(() => admin.locator('#who').textContent()).toBe('admin (admin)');
    expect(await admin.locator('#create-form').isVisible()).toBe(true);

    const home = await signDashboardToken(SECRET, { subject: 'hannah', role: 'viewer', sessions: ['home'], ttlSeconds: 600 });
    await signIn(viewer, url, home);
    await viewer.locator('[data-session="home"][data-live="true"]').waitFor(WAIT);
    const cards = viewer.locator('#session-list [data-session]');
    expect(await cards.count()).toBe(1);
    expect(await cards.first().getAttribute('data-session')).toBe('home');
    await admin.screenshot({ path: join(ARTIFACTS, 'dashboard-signed-in-list.png'), fullPage: true });

    // The QR appears as an image with its countdown, and is replaced when WhatsApp rotates it.
    await admin.locator('[data-session="shop"]').click();
    const shop = wa.session('shop');
    await shop.waitForSocket();
    const first = shop.qr('2@first-qr,noise,identity,adv');
    const qrImage = admin.getByRole('img', { name: 'QR code for session shop' });
    await qrImage.waitFor(WAIT);
    expect(await qrImage.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    expect(await admin.locator('.qr').getAttribute('data-qr')).toBe(first);
    expect(await admin.locator('.countdown').textContent()).toMatch(/expires in \d+ s/);
    expect(await admin.locator('#session-list [data-session="shop"] .badge').textContent()).toBe('scan QR');
    const second = shop.qr('2@second-qr,noise,identity,adv');
    await admin.locator(`.qr[data-qr="${second}"]`).waitFor(WAIT);
    await admin.screenshot({ path: join(ARTIFACTS, 'dashboard-qr-panel.png'), fullPage: true });
    // Page-side expressions are strings: this file is type-checked without the DOM library.
    const overflow = await admin.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);

    // Link with a phone number instead: the pairing code in large type.
    await admin.locator('#pair-phone').fill('4915123456789');
    await admin.getByRole('button', { name: 'Get code' }).click();
    await expect.poll(() => admin.locator('.pairing-code').textContent(), WAIT).toBe('FAKE-1234');
    expect(shop.calls).toContainEqual({ method: 'requestPairingCode', args: ['4915123456789'] });

    // The phone scans: the badge turns connected without a reload, then a message shows up live.
    await scan(shop, '15550000001');
    await expect.poll(() => admin.locator('#session-list [data-session="shop"] .badge').textContent(), WAIT).toBe('connected');
    expect(await admin.locator('#panel').textContent()).toContain('+15550000001');
    expect(await admin.locator('#panel img').count()).toBe(0);
    shop.receiveText({ from: ALICE, text: 'hello from the browser test', pushName: 'Alice' });
    await expect.poll(() => admin.locator('.messages li').first().textContent(), WAIT).toContain('Alice: hello from the browser test');
    expect(await admin.locator('body').textContent()).not.toMatch(/undefined|NaN|\[object/);
    await admin.screenshot({ path: join(ARTIFACTS, 'dashboard-connected.png'), fullPage: true });

    // Log out, with a confirmation first.
    await admin.getByRole('button', { name: 'Log out' }).click();
    expect(await admin.getByRole('alertdialog').textContent()).toContain('Log shop out of WhatsApp?');
    await admin.getByRole('button', { name: 'Yes, log out' }).click();
    await expect.poll(() => admin.locator('#session-list [data-session="shop"] .badge').textContent(), WAIT).toBe('logged out');
    expect(shop.loggedOutCount).toBe(1);

    // The viewer of `home` saw none of it and has no controls.
    const seen = (await viewer.locator('body').textContent()) ?? '';
    expect(seen).not.toContain('shop');
    expect(seen).not.toContain('hello from the browser test');
    expect(seen).toContain('Viewer: you can watch this session but not act on it.');
    expect(await viewer.locator('img').count()).toBe(0);
    expect(await viewer.locator('[data-action]').count()).toBe(0);
    expect(await viewer.locator('#create-form').isVisible()).toBe(false);
    await viewer.screenshot({ path: join(ARTIFACTS, 'dashboard-viewer.png'), fullPage: true });
  });

  it('lets the admin create a session, refusing a bad id on the page', async () => {
    const admin = await open({ width: 1200, height: 800 });
    await signIn(admin, url, adminToken);
    await admin.locator('[data-session="home"][data-live="true"]').waitFor(WAIT);
    await admin.locator('#new-session').fill('Bad Id');
    await admin.getByRole('button', { name: 'Create' }).click();
    // The browser's own pattern check or ours: either way nothing is sent and a message shows.
    expect(await admin.locator('#new-session').evaluate((input) => (input as unknown as { validity: { valid: boolean } }).validity.valid)).toBe(false);
    await admin.locator('#new-session').fill('kiosk');
    await admin.getByRole('button', { name: 'Create' }).click();
    await admin.locator('[data-session="kiosk"][data-live="true"]').waitFor(WAIT);
    expect(daemon.registry?.get('kiosk')).toBeDefined();
  });

  it('tells the user why an expired or forged token is refused, and signing out forgets the token', async () => {
    const page = await open({ width: 390, height: 844 });
    const expired = await signDashboardToken(SECRET, { subject: 'old', role: 'admin', sessions: '*', ttlSeconds: 60, now: Date.now() - 3_600_000 });
    await signIn(page, url, expired);
    await expect.poll(() => page.locator('#sign-in-error').textContent(), WAIT).toMatch(/expired/);
    const forged = await signDashboardToken(`${SECRET}-forged`, { subject: 'mallory', role: 'admin', sessions: '*', ttlSeconds: 60 });
    await signIn(page, url, forged);
    await expect.poll(() => page.locator('#sign-in-error').textContent(), WAIT).toMatch(/forged/);

    const operator = await signDashboardToken(SECRET, { subject: 'olga', role: 'operator', sessions: ['home'], ttlSeconds: 600 });
    await signIn(page, url, operator);
    await page.locator('[data-session="home"][data-live="true"]').waitFor(WAIT);
    await page.reload();
    // Kept for the tab: a reload stays signed in.
    await page.locator('[data-session="home"][data-live="true"]').waitFor(WAIT);
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(await page.locator('#sign-in').isVisible()).toBe(true);
    await page.reload();
    expect(await page.locator('#sign-in').isVisible()).toBe(true);
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
  });

  it('shows that the daemon is unreachable while it is away, and comes back live when it returns', async () => {
    const page = await open({ width: 390, height: 844 });
    await signIn(page, url, adminToken);
    await page.locator('[data-session="home"][data-live="true"]').waitFor(WAIT);
    await daemon.stop();
    await expect.poll(() => page.locator('#banner').textContent(), WAIT).toMatch(/Daemon unreachable — reconnecting/);
    expect(await page.locator('#banner').isVisible()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-unreachable.png'), fullPage: true });

    // The same daemon comes back on the same port: the page reconnects and subscribes again by itself.
    daemon = createDaemon({ logger: createLogger({ service: 'stickerbot-daemon', level: 'silent' }), socketFactory: wa.factory, processMetrics: false }, { ...config, port: Number(new URL(url).port) });
    await daemon.start();
    await page.locator('#banner').waitFor({ state: 'hidden', timeout: 30_000 });
    await page.locator('[data-session="home"][data-live="true"]').waitFor(WAIT);
    const home = wa.session('home');
    await home.waitForSocket({ fresh: false });
    await page.locator('#session-list [data-session="home"]').click();
    home.qr('2@after-restart,noise,identity,adv');
    await page.locator('.qr[data-qr="2@after-restart,noise,identity,adv"]').waitFor(WAIT);
  });
});

describe.skipIf(!chromiumAvailable)('dashboard in Chromium with 100 sessions', { timeout: 90_000 }, () => {
  it('counts sessions by state, filters them, and updates one row per event without rebuilding the list', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `s${String(i).padStart(3, '0')}`);
    const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-dashboard-100-'));
    const config = loadConfig({
      STICKERBOT_DATA_DIR: dataDir,
      STICKERBOT_PORT: '0',
      STICKERBOT_SESSIONS: ids.join(','),
      STICKERBOT_START_CONCURRENCY: '10',
      STICKERBOT_START_JITTER_MS: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    });
    // Linked: every session connects by itself, as after a restart with stored credentials.
    const wa = createFakeWa({ linked: true });
    const daemon = createDaemon({ logger: createLogger({ service: 'stickerbot-daemon', level: config.logLevel }), socketFactory: wa.factory, processMetrics: false }, config);
    let browser: Browser | undefined;
    try {
      const address = await daemon.start();
      browser = await launchChromium();
      const page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
      await signIn(page, `http://127.0.0.1:${address.port}`, daemon.token ?? '');
      const count = (state: string) => page.locator(`#session-counts [data-count="${state}"] .n`).textContent();
      await expect.poll(() => count('CONNECTED'), WAIT).toBe('100');
      await expect.poll(() => page.locator('#session-list [data-live="true"]').count(), WAIT).toBe(100);
      expect(await count('ALL')).toBe('100');
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-100-sessions.png') });

      // Mark every row and count rows added or removed from now on: events must update rows in place.
      await page.evaluate(`(() => {
        for (const li of document.querySelectorAll('#session-list li')) li.setAttribute('data-mark', 'kept');
        window.rowsReplaced = 0;
        new MutationObserver((records) => {
          for (const record of records) for (const node of [...record.addedNodes, ...record.removedNodes]) if (node.nodeName === 'LI') window.rowsReplaced += 1;
        }).observe(document.getElementById('session-list'), { childList: true, subtree: true });
      })()`);
      wa.session('s042').close(440);
      await expect.poll(() => count('ERROR'), WAIT).toBe('1');
      expect(await count('CONNECTED')).toBe('99');
      expect(await page.locator('#session-list [data-session="s042"] .badge').textContent()).toBe('error');
      wa.session('s007').receiveText({ from: ALICE, text: 'one of a hundred', pushName: 'Alice' });
      // Past one tick of the page's clock, which refreshes only rows whose line depends on it.
      await page.waitForTimeout(1_500);
      expect(await page.evaluate<number>('window.rowsReplaced')).toBe(0);
      expect(await page.locator('#session-list li[data-mark="kept"]').count()).toBe(100);

      // The text filter, then a state chip on top of it, then both cleared.
      const visible = page.locator('#session-list li:visible');
      await page.locator('#session-filter').fill('s04');
      await expect.poll(() => visible.count(), WAIT).toBe(10);
      await page.locator('#session-counts [data-count="ERROR"]').click();
      await expect.poll(() => visible.count(), WAIT).toBe(1);
      expect(await visible.locator('[data-session]').getAttribute('data-session')).toBe('s042');
      await page.locator('#session-filter').fill('s05');
      await expect.poll(() => page.locator('#no-match').isVisible(), WAIT).toBe(true);
      await page.locator('#session-counts [data-count="ERROR"]').click();
      await page.locator('#session-filter').fill('');
      await expect.poll(() => visible.count(), WAIT).toBe(100);
      expect(await page.evaluate<number>('window.rowsReplaced')).toBe(0);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-100-sessions-filtered.png') });
    } finally {
      await browser?.close();
      await daemon.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!chromiumAvailable)('dashboard in Chromium during a staggered start', { timeout: 60_000 }, () => {
  it('shows the sessions waiting for a connect slot, and connects one now on request', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-dashboard-queue-'));
    const config = loadConfig({
      STICKERBOT_DATA_DIR: dataDir,
      STICKERBOT_PORT: '0',
      STICKERBOT_SESSIONS: 'q1,q2,q3,q4,q5',
      STICKERBOT_START_CONCURRENCY: '2',
      STICKERBOT_START_JITTER_MS: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    });
    // Not linked: a socket stays connecting (no QR, no open) until the test says otherwise.
    const wa = createFakeWa();
    const daemon = createDaemon({ logger: createLogger({ service: 'stickerbot-daemon', level: config.logLevel }), socketFactory: wa.factory, processMetrics: false }, config);
    let browser: Browser | undefined;
    try {
      const address = await daemon.start();
      browser = await launchChromium();
      const page = await (await browser.newContext({ viewport: { width: 1200, height: 800 } })).newPage();
      await signIn(page, `http://127.0.0.1:${address.port}`, daemon.token ?? '');
      await expect.poll(() => page.locator('#session-list [data-live="true"]').count(), WAIT).toBe(5);
      expect(await page.locator('#session-counts [data-count="CONNECTING"] .n').textContent()).toBe('5');
      const waiting = page.locator('#session-list .detail', { hasText: 'waiting for a connect slot since' });
      expect(await waiting.count()).toBe(3);
      expect(await page.locator('#session-list [data-session="q1"] .detail').textContent()).toBe('');

      await page.locator('#session-list [data-session="q5"]').click();
      await page.getByRole('button', { name: 'Connect now' }).click();
      await expect.poll(() => waiting.count(), WAIT).toBe(2);
      expect(wa.session('q5').sockets).toHaveLength(1);
      expect(wa.session('q3').sockets).toHaveLength(0);
      await expect.poll(() => page.getByRole('button', { name: 'Start' }).isDisabled(), WAIT).toBe(true);
    } finally {
      await browser?.close();
      await daemon.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
