/**
 * The dashboard end to end with the real Baileys client: the daemon's production socket
 * factory logs into the loopback WhatsApp emulator (`@stickerbot/wa-sim`), and Debian's
 * Chromium (playwright-core) shows what happens. The emulator's phone scans the QR the
 * page shows (read from the page itself), a contact's message appears live, a second
 * session links with the pairing code the page displays, and the first one is logged out.
 */
import { createBaileysSocketFactory, createDaemon, loadConfig, signDashboardToken, type Daemon } from '@stickerbot/daemon';
import { createLogger } from '@stickerbot/runtime';
import type { Sim } from '@stickerbot/wa-sim';
import { startTrustedSim } from '../scripts/support/emulator-stack.js';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailable, launchChromium } from './support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SECRET = 'emulator-test-secret-0123456789abcdefghij';
const ARTIFACTS = join(import.meta.dirname, 'artifacts');
const SHOP_PHONE = '4915100000001';
const HOME_PHONE = '4915100000009';
const WAIT = { timeout: 30_000 };

// .ci/run installs Debian's Chromium; on a machine without it this file cannot run at all.
// Skipped only where Debian's Chromium is not installed (.ci/run installs it).
describe.skipIf(!chromiumAvailable)('dashboard with the WhatsApp emulator', { timeout: 120_000 }, () => {
  let dataDir: string;
  let sim: Sim & { release(): Promise<void> };
  let daemon: Daemon;
  let url: string;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-dashboard-sim-'));
    sim = await startTrustedSim();
    const config = loadConfig({
      STICKERBOT_DATA_DIR: dataDir,
      STICKERBOT_PORT: '0',
      STICKERBOT_SESSIONS: 'shop,home',
      STICKERBOT_JWT_SECRET: SECRET,
      STICKERBOT_WA_URL: sim.url,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    });
    daemon = createDaemon(
      {
        logger: createLogger({ service: 'stickerbot-daemon', level: config.logLevel }),
        socketFactory: createBaileysSocketFactory(),
        socketOptions: { fetchAgent: sim.media.fetchAgent },
        processMetrics: false,
      },
      config,
    );
    url = `http://127.0.0.1:${(await daemon.start()).port}`;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    await sim?.release();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  async function signedIn(token: string, viewport = { width: 390, height: 844 }): Promise<Page> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await page.goto(`${url}/dashboard/`);
    await page.locator('#token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    return page;
  }

  const badge = (page: Page, id: string) => page.locator(`#session-list [data-session="${id}"] .badge`);

  it('links by scanning the QR on the page and by pairing code, shows messages live, logs out', async () => {
    const operator = await signDashboardToken(SECRET, { subject: 'olga', role: 'operator', sessions: ['shop', 'home'], ttlSeconds: 600 });
    const page = await signedIn(operator);
    const outsider = await signedIn(await signDashboardToken(SECRET, { subject: 'vic', role: 'viewer', sessions: ['other'], ttlSeconds: 600 }));
    await page.locator('#session-list [data-session="shop"]').click();

    // The real Baileys QR, rendered by the daemon, read back from the page and scanned by the phone.
    const qr = page.locator('.qr[data-qr]');
    await qr.waitFor(WAIT);
    expect(await page.getByRole('img', { name: 'QR code for session shop' }).getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    await sim.scanQr((await qr.getAttribute('data-qr')) ?? '', { phone: SHOP_PHONE });
    await expect.poll(() => badge(page, 'shop').textContent(), WAIT).toBe('connected');
    expect(await page.locator('#panel').textContent()).toContain(`+${SHOP_PHONE}`);

    await sim.phone('4915200000002', { name: 'Alice' }).sendText('hello from the emulator');
    await expect.poll(() => page.locator('.messages li').first().textContent(), WAIT).toContain('hello from the emulator');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-emulator-connected.png'), fullPage: true });

    // The other session links with the code the page shows, typed on the phone.
    await page.locator('#session-list [data-session="home"]').click();
    await page.locator('.qr[data-qr]').waitFor(WAIT);
    await page.locator('#pair-phone').fill(HOME_PHONE);
    await page.getByRole('button', { name: 'Get code' }).click();
    const code = page.locator('.pairing-code');
    await code.waitFor(WAIT);
    const shown = (await code.getAttribute('data-code')) ?? '';
    expect(shown).toMatch(/^[A-Z0-9]{8}$/);
    await sim.enterPairingCode(shown, { phone: HOME_PHONE });
    await expect.poll(() => badge(page, 'home').textContent(), WAIT).toBe('connected');

    await page.locator('#session-list [data-session="shop"]').click();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Yes, log out' }).click();
    await expect.poll(() => badge(page, 'shop').textContent(), WAIT).toBe('logged out');

    // A dashboard whose token names another session saw none of it.
    const seen = (await outsider.locator('body').textContent()) ?? '';
    for (const leaked of ['shop', 'home', 'hello from the emulator', SHOP_PHONE, shown]) expect(seen).not.toContain(leaked);
    expect(await outsider.locator('#session-list [data-session]').count()).toBe(0);
  });
});
