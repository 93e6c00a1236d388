/**
 * The daemon's stdout is what pm2 writes to its log file: JSON lines only, and never key
 * material. libsignal prints a whole Signal session record (private keys, root and chain
 * keys) with `console.info("Closing session:", …)` when a contact's session is replaced,
 * which happens when a contact writes first and the bot answers. The emulator in its own
 * process, the daemon with real Baileys as its own process (scripts/sim-daemon.ts, through
 * the same `runDaemonProcess` as main.ts), and a raw worker client drive that path; then
 * the daemon's raw stdout and stderr are read.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanQrCodes, startEmulator } from '../scripts/dev-sim.js';
import { connectWorker, waitFor, type WorkerClient } from '../scripts/support/emulator-stack.js';
import { exited, killAll, repoRoot, spawnSimDaemon } from '../scripts/support/process-stack.js';

const BOT = '4915100000001';
const PHONES = ['4915200000101', '4915200000102'];
const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-stdout-'));
const children: ChildProcess[] = [];
const closers: Array<() => void> = [];

afterAll(async () => {
  for (const close of closers) close();
  await killAll(children);
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

async function admin(adminUrl: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${adminUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

describe('the daemon process output', () => {
  it('stays JSON lines without Signal key material when contacts write first and the bot answers (libsignal replaces the session)', async () => {
    const emulator = await startEmulator(repoRoot, dataDir, { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' });
    children.push(emulator.child);
    const daemon = spawnSimDaemon(emulator, dataDir);
    children.push(daemon);
    let stdout = '';
    let stderr = '';
    daemon.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    daemon.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let worker: WorkerClient | undefined;
    try {
      const port = Number(await waitFor(() => /"port":(\d+),"msg":"bridge listening"/.exec(stdout)?.[1], 'the daemon to listen', 60_000));
      const token = readFileSync(join(dataDir, 'token'), 'utf8').trim();
      const url = `http://127.0.0.1:${port}`;
      const dashboard = scanQrCodes({ bridgeUrl: url, token, adminUrl: emulator.adminUrl, phones: { default: BOT }, say: () => undefined });
      closers.push(() => dashboard.close());
      const client = await connectWorker(url, token);
      worker = client;
      for (const deadline = Date.now() + 60_000; ; await new Promise((resolve) => setTimeout(resolve, 300))) {
        const { sessions } = await client.command('session:list', {});
        if (sessions.some((session) => session.id === 'default' && session.status === 'CONNECTED')) break;
        if (Date.now() > deadline) throw new Error('the session did not connect');
      }

      for (const phone of PHONES) {
        // The contact writes first: the daemon gets a session from the contact's prekey message.
        const { id } = (await admin(emulator.adminUrl, `/phones/${phone}/text`, { text: 'hello', to: BOT, name: `contact ${phone}` })) as { id: string };
        const entry = await client.waitForEntry((e) => e.event.type === 'message:received' && e.event.message.id === id, `the message of ${phone}`, 60_000);
        const chat = entry.event.type === 'message:received' ? entry.event.message.chat : '';
        // The bot answers: Baileys starts its own session with the contact and libsignal closes the old one.
        await client.command('message:send', { sessionId: 'default', chat, content: { type: 'text', text: 'hi' } });
        const reply = await admin(emulator.adminUrl, `/phones/${phone}/next-message?timeoutMs=60000`);
        expect(reply.text).toBe('hi');
      }
    } finally {
      worker?.close();
      daemon.kill('SIGTERM');
      await exited(daemon);
    }

    expect(daemon.exitCode).toBe(0);
    const lines = stdout.split('\n').filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(5);
    const notJson = lines.filter((line) => {
      try {
        return typeof JSON.parse(line) !== 'object';
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
    for (const secret of ['privKey', 'rootKey', 'chainKey', 'Closing session']) {
      expect(stdout).not.toContain(secret);
      expect(stderr).not.toContain(secret);
    }
  }, 180_000);
});
