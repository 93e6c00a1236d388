/**
 * The real daemon (SQLite, bridge, outbox) with the test kit's fake WhatsApp socket, and the
 * real worker in-process over loopback: what the end-to-end tests of `test/` drive. Every
 * start registers its teardown with the caller's `cleanups`, run in reverse after each test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDaemon, loadConfig as loadDaemonConfig, type Daemon } from '@stickerbot/daemon';
import { createFakeWa, type FakeSent, type FakeWa, type FakeWaSession } from '@stickerbot/daemon/test-kit';
import { createLogger } from '@stickerbot/runtime';
import type { StickerEngine } from '@stickerbot/sticker';
import { createWorker, loadConfig, type Worker } from '@stickerbot/worker';

/** Log level of the daemon and worker under test (`TEST_LOG_LEVEL`, default silent). */
export const LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'silent';

/** A started daemon with its fake WhatsApp, logged in as session `main`. */
export interface RunningDaemon {
  daemon: Daemon;
  wa: FakeWa;
  session: FakeWaSession;
  url: string;
  token: string;
  dataDir: string;
}

/** Teardown steps a test file runs (in reverse) after each test. */
export type Cleanups = Array<() => Promise<void> | void>;

/** Logs the fake session in the way Baileys does, so the daemon marks it CONNECTED. */
export async function login(session: FakeWaSession, phone = '15550000001', lid?: string): Promise<void> {
  const socket = await session.waitForSocket();
  socket.options.auth.creds.me = { id: `${phone}:1@s.whatsapp.net`, name: 'bot', ...(lid === undefined ? {} : { lid }) };
  socket.emit('creds.update', { me: socket.options.auth.creds.me });
  session.open({ jid: phone, name: 'bot', ...(lid === undefined ? {} : { lid }) });
}

/** What a sent message is: `sticker`, `image`, `video`, `text`, or `react:<emoji>`. */
export function kindOf(sent: FakeSent): string {
  const content = sent.content as Record<string, unknown>;
  if ('react' in content) return `react:${String((content.react as { text?: string }).text)}`;
  if ('sticker' in content) return 'sticker';
  if ('image' in content) return 'image';
  if ('video' in content) return 'video';
  if ('text' in content) return 'text';
  return 'other';
}

/** The media bytes of a sent message. */
export function bytesOf(sent: FakeSent | undefined, key: 'sticker' | 'image' | 'video'): Buffer {
  const value = (sent?.content as Record<string, unknown> | undefined)?.[key];
  if (!Buffer.isBuffer(value) && !(value instanceof Uint8Array)) throw new Error(`no ${key} in the sent message`);
  return Buffer.from(value);
}

/** The text of a sent text message ('' for anything else). */
export function textOf(sent: FakeSent | undefined): string {
  const text = (sent?.content as { text?: unknown } | undefined)?.text;
  return typeof text === 'string' ? text : '';
}

/** Resolves when `predicate` holds, polling every 20 ms. */
export async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starters of the stack, bound to a test file's cleanups and sticker engine. */
export function fakeWaStack(cleanups: Cleanups, stickers: () => StickerEngine) {
  function tempDir(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'stickerbot-e2e-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** A daemon on a fresh data folder (and port 0), its session `main` logged in as `15550000001`. */
  async function startDaemon(env: Record<string, string> = {}, account: { lid?: string } = {}): Promise<RunningDaemon> {
    const dataDir = tempDir();
    const wa = createFakeWa();
    const config = loadDaemonConfig({ STICKERBOT_DATA_DIR: dataDir, STICKERBOT_PORT: '0', STICKERBOT_SESSIONS: 'main', LOG_LEVEL, ...env });
    const daemon = createDaemon({ logger: createLogger({ service: 'stickerbot-daemon', level: config.logLevel }), socketFactory: wa.factory, processMetrics: false }, config);
    cleanups.push(() => daemon.stop());
    const address = await daemon.start();
    const session = wa.session('main');
    await login(session, '15550000001', account.lid);
    if (!daemon.token) throw new Error('a started daemon has a token');
    return { daemon, wa, session, url: `http://127.0.0.1:${address.port}`, token: daemon.token, dataDir };
  }

  /** The worker in-process, sharing the daemon's data folder (it reads the generated token; its database is `worker.sqlite` there). */
  function startWorker(running: RunningDaemon, env: Record<string, string> = {}): Worker {
    const config = loadConfig({ STICKERBOT_BRIDGE_URL: running.url, STICKERBOT_DATA_DIR: running.dataDir, LOG_LEVEL, ...env });
    const worker = createWorker(
      { log: createLogger({ service: 'stickerbot-worker', level: config.logLevel }), stickers: stickers(), bridge: { backoff: { baseMs: 50, capMs: 500 }, ackDelayMs: 20 } },
      config,
    );
    cleanups.push(() => worker.stop(2000).then(() => undefined));
    worker.start();
    return worker;
  }

  return { tempDir, startDaemon, startWorker };
}
