/**
 * The restart proof over the real WhatsApp client path: the emulator (packages/wa-sim) in
 * its own process, the daemon with real Baileys pointed at it (scripts/sim-daemon.ts, as
 * `pnpm dev --sim` runs it), and the real worker. Contacts' phones write while the worker is
 * killed (SIGKILL) and stopped (SIGTERM); each phone receives exactly one answer per
 * message, quoting it, and the daemon never reconnects to WhatsApp.
 * The large storm runs on the daemon's fake socket (restart-storm.test.ts): with Signal
 * encryption on both ends and send pacing, the emulator path is kept small here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanQrCodes, startEmulator, type Emulator } from '../scripts/dev-sim.js';
import { exited, killAll, repoRoot, TSX_ARGS, until, WORKER_ARGS } from '../scripts/support/process-stack.js';

const BOT = '4915100000001';
const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-emulator-restart-'));
const children: ChildProcess[] = [];
const closers: Array<() => void> = [];
const output: string[] = [];

function start(args: string[], env: Record<string, string>, name: string): ChildProcess {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', STICKERBOT_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8').on('data', (chunk: string) => {
      output.push(`${name}: ${chunk.trimEnd()}`);
      if (output.length > 100) output.shift();
    });
  }
  children.push(child);
  return child;
}

async function admin(emulator: Emulator, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${emulator.adminUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json().catch(() => ({}))) as Record<string, unknown> };
}

afterAll(async () => {
  for (const close of closers) close();
  await killAll(children);
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe('worker restarts against the WhatsApp emulator (real Baileys in the daemon)', () => {
  it('answers every phone exactly once across SIGKILL and SIGTERM of the worker, on one WhatsApp connection', async () => {
    try {
      const emulator = await startEmulator(repoRoot, dataDir, { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' });
      children.push(emulator.child);
      const daemon = start([...TSX_ARGS, join(repoRoot, 'scripts/sim-daemon.ts')], {
        STICKERBOT_PORT: '0',
        STICKERBOT_SESSIONS: 'default',
        STICKERBOT_WA_URL: emulator.wsUrl,
        WA_SIM_CA_FILE: emulator.caFile,
        LOG_LEVEL: 'info',
      }, 'daemon');
      let port = 0;
      daemon.stdout?.on('data', (chunk: string) => {
        const match = /"port":(\d+),"msg":"bridge listening"/.exec(chunk);
        if (match?.[1]) port = Number(match[1]);
      });
      await until(() => port !== 0, 'the daemon to listen', 60_000);
      const token = readFileSync(join(dataDir, 'token'), 'utf8').trim();
      const dashboard = scanQrCodes({ bridgeUrl: `http://127.0.0.1:${port}`, token, adminUrl: emulator.adminUrl, phones: { default: BOT }, say: () => undefined });
      closers.push(() => dashboard.close());
      const online = async () => {
        const { json } = await admin(emulator, '/status');
        const accounts = (json.accounts ?? []) as Array<{ pn: string; devices: Array<{ online: boolean }> }>;
        return accounts.find((a) => a.pn === BOT)?.devices.filter((d) => d.online).length ?? 0;
      };
      let linked = 0;
      for (const deadline = Date.now() + 60_000; linked === 0 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 300))) linked = await online();
      expect(linked).toBe(1);
      const asAdmin = { headers: { authorization: `Bearer ${token}` } };
      const readyz = async () => (await (await fetch(`http://127.0.0.1:${port}/readyz?verbose`, asAdmin)).json()) as { sessions: Array<{ id?: string; state?: string }> };
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 300))) {
        if (JSON.stringify((await readyz()).sessions).includes('CONNECTED')) break;
      }
      const reconnectsBefore = (await (await fetch(`http://127.0.0.1:${port}/metrics`, asAdmin)).text()).match(/^stickerbot_reconnects_total\{[^}]*\} \d+/gm) ?? [];

      const workerEnv = { STICKERBOT_BRIDGE_URL: `http://127.0.0.1:${port}`, STICKERBOT_TOKEN: token };
      let worker = start(WORKER_ARGS, workerEnv, 'worker');

      const phones = Array.from({ length: 12 }, (_, i) => `49152${String(i).padStart(8, '0')}`);
      const sent = new Map<string, string>();
      const send = async (from: number, to: number) => {
        for (const phone of phones.slice(from, to)) {
          const { status, json } = await admin(emulator, `/phones/${phone}/text`, { text: '!ping', to: BOT, name: `contact ${phone}` });
          expect(status).toBe(200);
          sent.set(phone, String(json.id));
        }
      };
      await send(0, 4);
      worker.kill('SIGKILL');
      await exited(worker);
      await send(4, 8);
      worker = start(WORKER_ARGS, workerEnv, 'worker');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      worker.kill('SIGTERM');
      await exited(worker);
      await send(8, 12);
      worker = start(WORKER_ARGS, workerEnv, 'worker');

      for (const phone of phones) {
        const reply = await admin(emulator, `/phones/${phone}/next-message?timeoutMs=60000`);
        expect(reply.status).toBe(200);
        expect(String(reply.json.text)).toContain('pong');
        // The answer quotes the phone's own message.
        expect(JSON.stringify(reply.json.message)).toContain(`"stanzaId":"${sent.get(phone)}"`);
      }
      for (const phone of phones) expect((await admin(emulator, `/phones/${phone}/next-message?timeoutMs=300`)).status).not.toBe(200);
      const reconnectsAfter = (await (await fetch(`http://127.0.0.1:${port}/metrics`, asAdmin)).text()).match(/^stickerbot_reconnects_total\{[^}]*\} \d+/gm) ?? [];
      expect(reconnectsAfter).toEqual(reconnectsBefore);
      expect(await online()).toBe(1);
      const { json: unhandled } = await admin(emulator, '/unhandled');
      expect(unhandled.problems).toEqual([]);
    } catch (err) {
      throw new Error(`${String(err)}\n--- recent output ---\n${output.slice(-30).join('\n')}`, { cause: err });
    }
  }, 180_000);
});
