/**
 * Debian's Chromium for the dashboard's browser tests, driven by playwright-core (which
 * cannot download a browser of its own here). `.ci/run` installs /usr/bin/chromium when it
 * is missing; on a developer machine without it the browser tests are skipped (said in the
 * test name's describe block), everything else still runs.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian installs Chromium (`apt-get install chromium`). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Whether the browser tests can run on this machine. */
export const chromiumAvailable = existsSync(CHROMIUM_PATH);

// Headless as root in a sandboxed CI, with every background connection off: this machine's
// network is closed and Chromium's own update and sync traffic would be refused at start.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Launches Debian's Chromium headless with the flags this sandbox needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS, headless: true });
}
