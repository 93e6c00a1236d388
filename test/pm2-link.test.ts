/**
 * The first link of a headless host (issue 12, item 10): the daemon under pm2 (the
 * ecosystem's daemon app, with a temporary PM2_HOME) against the WhatsApp emulator. The QR
 * read back from pm2's log file decodes, with a QR decoder of its own, to a QR the emulator
 * issued; the JSON log stays JSON lines and names the dashboard and the token file; and
 * `pnpm link:session --phone` prints a pairing code that links the session when the
 * emulator's phone types it.
 */
import { spawn } from 'node:child_process';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { readQrTexts } from '@stickerbot/daemon/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../scripts/dev-sim.js';
import { exited, repoRoot, TSX_ARGS, until } from '../scripts/support/process-stack.js';
import { freePort } from '../scripts/support/free-port.js';

const run = promisify(execFile);
const BOT = '4915100000077';

const pm2Home = mkdtempSync(join(tmpdir(), 'stickerbot-pm2-link-home-'));
const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-pm2-link-data-'));
const simDir = mkdtempSync(join(tmpdir(), 'stickerbot-pm2-link-sim-'));
const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
let emulator: Emulator | undefined;
let port = 0;


async function pm2(...args: string[]): Promise<string> {
  const { stdout } = await run(join(repoRoot, 'node_modules/.bin/pm2'), args, {
    cwd: repoRoot,
    timeout: 60_000,
    env: {
      ...baseEnv,
      PM2_HOME: pm2Home,
      STICKERBOT_DATA_DIR: dataDir,
      STICKERBOT_PORT: String(port),
      STICKERBOT_SESSIONS: 'default',
      STICKERBOT_WA_URL: emulator?.wsUrl ?? '',
      WA_SIM_CA_FILE: emulator?.caFile ?? '',
      LOG_LEVEL: 'info',
    },
  });
  return stdout;
}

function log(name: string): string {
  const file = join(dataDir, 'logs', name);
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

async function admin(path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${emulator?.adminUrl ?? ''}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json().catch(() => ({}))) as Record<string, unknown> };
}

/**
 * The ecosystem's own daemon app (log files, ready signal), with the entry of
 * `pnpm dev --sim` (scripts/sim-daemon.ts, run through tsx's loader as `pnpm dev --sim`
 * runs it), which trusts the emulator; that override refuses NODE_ENV=production, hence
 * `test`.
 */
function writeTestEcosystem(): string {
  const entry = join(simDir, 'sim-daemon.mjs');
  writeFileSync(entry, `await import(${JSON.stringify(pathToFileURL(join(repoRoot, 'scripts/sim-daemon.ts')).href)});\n`);
  const file = join(simDir, 'ecosystem.config.cjs');
  writeFileSync(
    file,
    [
      `const { apps } = require(${JSON.stringify(join(repoRoot, 'ecosystem.config.cjs'))});`,
      `const daemon = apps.find((app) => app.name === 'stickerbot-daemon');`,
      `module.exports = { apps: [{ ...daemon, script: ${JSON.stringify(entry)}, args: [], node_args: ${JSON.stringify(TSX_ARGS)}, env: { ...daemon.env, NODE_ENV: 'test' } }] };`,
    ].join('\n'),
  );
  return file;
}

afterAll(async () => {
  await pm2('delete', 'all').catch(() => '');
  await pm2('kill').catch(() => '');
  if (emulator && emulator.child.exitCode === null) {
    emulator.child.kill('SIGKILL');
    await exited(emulator.child);
  }
  for (const dir of [pm2Home, dataDir, simDir]) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('first link under pm2', () => {
  it('puts a scannable QR of the emulator in the pm2 log, and pnpm link:session --phone links the session', async () => {
    const diagnostics = (): string => ['daemon.out.log', 'daemon.err.log'].map((name) => `--- ${name}\n${log(name).split('\n').slice(-20).join('\n')}`).join('\n');
    try {
      emulator = await startEmulator(repoRoot, simDir, baseEnv);
      port = await freePort();
      await pm2('start', writeTestEcosystem());

      // The QR as pm2 wrote it to the daemon's stderr log, decoded from its text blocks.
      let shown: string | undefined;
      await until(() => (shown = readQrTexts(log('daemon.err.log')).at(-1)) !== undefined, 'a QR in daemon.err.log', 90_000, 250);
      const [ref, noiseKey, identityKey] = (shown ?? '').slice((shown ?? '').indexOf('#') + 1).split(',');
      const issued = (await admin('/registrations')).json.registrations as Array<{ refs: string[]; noiseKey: string; identityKey: string }>;
      expect(issued).toContainEqual({ refs: expect.arrayContaining([ref]) as unknown, noiseKey, identityKey });

      // stdout stays JSON lines, and its QR line says where else to link.
      const lines = log('daemon.out.log').split('\n').filter((line) => line !== '');
      const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const qrLine = records.find((record) => String(record.msg).startsWith('QR login required'));
      expect(qrLine).toMatchObject({ sessionId: 'default', dashboard: `http://127.0.0.1:${port}/dashboard/`, tokenLocation: join(dataDir, 'token') });

      // The operator's command, as typed: the daemon found from STICKERBOT_PORT, the token from the data folder.
      const cli = spawn('pnpm', ['link:session', 'default', '--phone', `+${BOT}`], {
        cwd: repoRoot,
        env: { ...baseEnv, STICKERBOT_DATA_DIR: dataDir, STICKERBOT_PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      cli.stdout.setEncoding('utf8').on('data', (chunk: string) => void (out += chunk));
      cli.stderr.setEncoding('utf8').on('data', (chunk: string) => void (out += chunk));
      const exitCode = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
      let code = '';
      await until(() => (code = /Pairing code for session "default": (\w{4})-(\w{4})/.exec(out)?.slice(1).join('') ?? '') !== '', 'the pairing code', 60_000, 100);
      const linked = await admin('/pairing-code', { code, phone: BOT });
      expect(linked.status).toBe(200);
      expect(await exitCode).toBe(0);
      expect(out).toContain(`Session "default" is linked as +${BOT}`);
      const status = await admin('/status');
      const accounts = status.json.accounts as Array<{ pn: string; devices: Array<{ online: boolean }> }>;
      expect(accounts.find((account) => account.pn === BOT)?.devices.some((device) => device.online)).toBe(true);
    } catch (err) {
      throw new Error(`${String(err)}\n${diagnostics()}`, { cause: err });
    }
  }, 240_000);
});
