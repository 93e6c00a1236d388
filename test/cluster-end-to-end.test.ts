/**
 * Cluster mode end to end (issue 17): two daemons built by `createDaemon` over one real Redis
 * (the test kit's, AOF `appendfsync always`), one fake WhatsApp shared by both (a session's
 * socket from either daemon is the same account), and the real worker in-process, connected
 * to one daemon only. A message to a session the other daemon owns reaches the worker through
 * the Redis journal, and the worker's reply reaches that owner through command forwarding;
 * after a graceful stop the survivor owns everything and the worker, reconnected to it, goes
 * on. Every message is answered exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDaemon, loadConfig as loadDaemonConfig, type Daemon } from '@stickerbot/daemon';
import { createFakeWa, startRedisServer, type FakeWa, type TestRedisServer } from '@stickerbot/daemon/test-kit';
import { createLogger } from '@stickerbot/runtime';
import { createStickerEngine, type StickerEngine } from '@stickerbot/sticker';
import { createWorker, loadConfig } from '@stickerbot/worker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kindOf, LOG_LEVEL, login, textOf, waitUntil, type Cleanups } from './support/fake-wa-stack.js';

const TOKEN = 'cluster-end-to-end-token-0123456789';
const SESSIONS = ['s1', 's2'];
const ALICE = '4915100000001';

describe('cluster mode end to end', { timeout: 120_000 }, () => {
  const cleanups: Cleanups = [];
  let redis: TestRedisServer;
  let stickers: StickerEngine;

  beforeAll(async () => {
    redis = await startRedisServer();
    stickers = createStickerEngine({ concurrency: 1 });
  }, 60_000);
  afterAll(async () => {
    await stickers.close();
    await redis.close();
  });
  afterEach(async () => {
    for (const step of cleanups.splice(0).reverse()) await step();
  });

  function tempDir(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'stickerbot-cluster-e2e-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  async function startMember(id: string, wa: FakeWa, prefix: string): Promise<{ daemon: Daemon; url: string }> {
    const config = loadDaemonConfig({
      STICKERBOT_DATA_DIR: tempDir(),
      STICKERBOT_PORT: '0',
      STICKERBOT_SESSIONS: SESSIONS.join(','),
      STICKERBOT_TOKEN: TOKEN,
      STICKERBOT_REDIS_URL: redis.url,
      STICKERBOT_DAEMON_ID: id,
      STICKERBOT_LEASE_MS: '10000',
      LOG_LEVEL,
    });
    const daemon = createDaemon(
      { logger: createLogger({ service: `stickerbot-daemon-${id}`, level: config.logLevel }), socketFactory: wa.factory, processMetrics: false, cluster: { prefix } },
      config,
    );
    cleanups.push(() => daemon.stop());
    const address = await daemon.start();
    return { daemon, url: `http://127.0.0.1:${address.port}` };
  }

  function owned(daemon: Daemon): string[] {
    return daemon.cluster?.owned() ?? [];
  }

  /** The texts a session sent (from whichever daemon owned it). */
  function answers(wa: FakeWa, sessionId: string): string[] {
    return wa
      .session(sessionId)
      .sent.filter((sent) => kindOf(sent) === 'text')
      .map(textOf);
  }

  it("answers a message to the other daemon's session through the Redis journal and forwarding, once, and goes on after a handover", async () => {
    const wa = createFakeWa();
    const prefix = `e2e-${Date.now()}:`;
    const a = await startMember('a', wa, prefix);
    for (const id of SESSIONS) await login(wa.session(id), id === 's1' ? '15550000001' : '15550000002');
    const b = await startMember('b', wa, prefix);
    await waitUntil(() => owned(a.daemon).length === 1 && owned(b.daemon).length === 1, 'the sessions split 1/1', 20_000);
    await waitUntil(() => SESSIONS.every((id) => [a, b].some((m) => m.daemon.registry?.get(id)?.status === 'CONNECTED' && owned(m.daemon).includes(id))), 'both connected at their owners', 20_000);
    const atB = owned(b.daemon)[0] ?? '';
    const atA = owned(a.daemon)[0] ?? '';

    // The worker talks to daemon a only; its group's consumer reads every partition from Redis.
    const config = loadConfig({ STICKERBOT_BRIDGE_URL: a.url, STICKERBOT_TOKEN: TOKEN, STICKERBOT_DATA_DIR: tempDir(), LOG_LEVEL });
    const worker = createWorker(
      { log: createLogger({ service: 'stickerbot-worker', level: config.logLevel }), stickers, bridge: { backoff: { baseMs: 50, capMs: 500 }, ackDelayMs: 20 } },
      config,
    );
    cleanups.push(() => worker.stop(2000).then(() => undefined));
    worker.start();

    wa.session(atB).receiveText({ from: ALICE, text: '!ping', id: 'PING-B-1' });
    wa.session(atA).receiveText({ from: ALICE, text: '!ping', id: 'PING-A-1' });
    await waitUntil(() => answers(wa, atB).length >= 1 && answers(wa, atA).length >= 1, 'both pings answered', 30_000);

    // The handover: b stops gracefully, a owns both, the worker goes on without a reconnect.
    await b.daemon.stop();
    await waitUntil(() => owned(a.daemon).length === 2, 'a owns both sessions', 20_000);
    await waitUntil(() => a.daemon.registry?.get(atB)?.status === 'CONNECTED', 'the moved session connected at a', 20_000);
    wa.session(atB).receiveText({ from: ALICE, text: '!ping', id: 'PING-B-2' });
    await waitUntil(() => answers(wa, atB).length >= 2, 'the ping after the handover answered', 30_000);

    // Exactly once: no late duplicate from a redelivery or a second execution.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(answers(wa, atB)).toHaveLength(2);
    expect(answers(wa, atA)).toHaveLength(1);
    expect(answers(wa, atB)[0]).toMatch(/pong/i);
  });
});
