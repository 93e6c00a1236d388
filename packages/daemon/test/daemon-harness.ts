/**
 * Starts real daemons for the integration tests: the real storage in a temp folder, the
 * real session registry with the test kit's fake WhatsApp, the real bridge on a loopback
 * port. Each started daemon is stopped and each folder removed by `cleanup()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@stickerbot/runtime';
import { loadConfig, type DaemonConfig } from '../src/config.js';
import { createDaemon, type Daemon } from '../src/daemon.js';
import type { FakeWa, FakeWaSession } from '../src/test-kit/index.js';
import { Clients } from './bridge-harness.js';

export interface RunningDaemon {
  daemon: Daemon;
  config: DaemonConfig;
  url: string;
  token: string;
  clients: Clients;
}

/** Owns temp folders and daemons of one test file. */
export class DaemonHarness {
  private readonly cleanups: Array<() => Promise<void> | void> = [];

  /** A new temp data folder, removed at cleanup. */
  dataDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'stickerbot-daemon-'));
    this.cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** Starts a daemon over `dataDir` with the fake WhatsApp; extra variables override the defaults. */
  async start(dataDir: string, wa: FakeWa, env: Record<string, string> = {}): Promise<RunningDaemon> {
    const config = loadConfig({
      STICKERBOT_DATA_DIR: dataDir,
      STICKERBOT_PORT: '0',
      STICKERBOT_SESSIONS: 'main',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...env,
    });
    const daemon = createDaemon(
      { logger: createLogger({ service: 'stickerbot-daemon', level: config.logLevel }), socketFactory: wa.factory, processMetrics: false },
      config,
    );
    this.cleanups.push(() => daemon.stop());
    const address = await daemon.start();
    const url = `http://127.0.0.1:${address.port}`;
    const clients = new Clients(() => url);
    this.cleanups.push(() => clients.closeAll());
    if (daemon.token === undefined) throw new Error('a started daemon has a token');
    return { daemon, config, url, token: daemon.token, clients };
  }

  async cleanup(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) await cleanup();
  }
}

/**
 * Logs a fake session in the way Baileys does: the creds gain `me` and `creds.update`
 * fires (so the auth store holds a completed login), then the connection opens.
 */
export async function login(session: FakeWaSession, phone = '15550000001'): Promise<void> {
  const socket = await session.waitForSocket();
  socket.options.auth.creds.me = { id: `${phone}:1@s.whatsapp.net`, name: 'bot' };
  socket.emit('creds.update', { me: socket.options.auth.creds.me });
  session.open({ jid: phone, name: 'bot' });
}
