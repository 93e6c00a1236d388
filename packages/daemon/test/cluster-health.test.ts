/**
 * `/readyz` and `/metrics` in cluster mode (issue 17): they report the Redis journal (its
 * `lastSeq`, each group's position and what it still has to handle), Redis' reachability and
 * this daemon's part in the cluster (id, sessions owned, live daemons), and a daemon whose
 * Redis does not answer is not ready until it does again. One host's output has none of it.
 * Real daemons over a real Redis (the test kit's) and the fake WhatsApp.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildTextMessage, createFakeWa } from '../src/test-kit/index.js';
import { useClusterRedis } from './cluster-harness.js';
import { DaemonHarness, type RunningDaemon } from './daemon-harness.js';

const ALICE = '4915100000001@s.whatsapp.net';
const POLL = { timeout: 15_000, interval: 50 };
const redis = useClusterRedis();
const harness = new DaemonHarness();
afterEach(() => harness.cleanup());

interface Verbose {
  ready: boolean;
  problems: string[];
  checks: {
    store: boolean;
    running: boolean;
    journal: { lastSeq: number; entries: number; full: boolean; groups: Array<{ group: string; position: number; lag: number; unacknowledged?: number }> } | null;
    cluster?: { daemonId: string; redisReachable: boolean; redisError?: string; checkedAt: number | null; owned: string[]; liveDaemons: string[] };
  };
}

async function verbose(running: RunningDaemon): Promise<{ status: number; body: Verbose }> {
  const response = await fetch(`${running.url}/readyz?verbose`, { headers: { authorization: `Bearer ${running.token}` } });
  return { status: response.status, body: (await response.json()) as Verbose };
}

async function metrics(running: RunningDaemon): Promise<string> {
  return (await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${running.token}` } })).text();
}

describe('/readyz and /metrics in cluster mode', { timeout: 60_000 }, () => {
  it("report the Redis journal, this daemon's sessions and the live daemons, and go unready while Redis is down", async () => {
    const wa = createFakeWa({ linked: true });
    const env = (id: string) => ({ STICKERBOT_SESSIONS: 's1,s2', STICKERBOT_REDIS_URL: redis.server.url, STICKERBOT_DAEMON_ID: id, STICKERBOT_LEASE_MS: '6000' });
    const a = await harness.start(harness.dataDir(), wa, env('a'));
    const b = await harness.start(harness.dataDir(), wa, env('b'));
    const nodeA = a.daemon.cluster;
    if (!nodeA) throw new Error('cluster mode');
    await expect.poll(async () => (await verbose(a)).body.checks.cluster?.liveDaemons, POLL).toEqual(['a', 'b']);
    await expect.poll(() => [nodeA.owned().length, b.daemon.cluster?.owned().length], POLL).toEqual([1, 1]);

    // One message journaled to Redis by a's session, a group that has not read it.
    await nodeA.journal.ensureGroup('bot', 'start');
    const sessionId = nodeA.owned()[0] ?? '';
    await expect.poll(() => a.daemon.registry?.get(sessionId)?.status, POLL).toBe('CONNECTED');
    const beforeReceipt = wa.session(sessionId).current.options.beforeReceipt;
    if (!beforeReceipt) throw new Error('the daemon journals before the receipt');
    await beforeReceipt(buildTextMessage({ from: ALICE, id: 'IN-1', text: 'hello' }), 'notify');
    const lastSeq = await nodeA.journal.lastSeq();
    expect(lastSeq).toBeGreaterThan(0);

    // Both daemons report the one Redis journal, whichever session journaled it.
    for (const [id, running] of [['a', a], ['b', b]] as const) {
      await expect.poll(async () => (await verbose(running)).body.checks.journal?.lastSeq, POLL).toBe(lastSeq);
      const { status, body } = await verbose(running);
      expect(status).toBe(200);
      expect(body.ready).toBe(true);
      expect(body.checks.journal?.groups).toEqual([{ group: 'bot', position: 0, lag: lastSeq, unacknowledged: lastSeq }]);
      expect(body.checks.cluster).toMatchObject({ daemonId: id, redisReachable: true, owned: running.daemon.cluster?.owned(), liveDaemons: ['a', 'b'] });
      const text = await metrics(running);
      expect(text).toContain(`stickerbot_redis_up{daemon="${id}"} 1`);
      expect(text).toContain(`stickerbot_cluster_sessions_owned{daemon="${id}"} 1`);
      expect(text).toContain('stickerbot_cluster_live_daemons 2');
      expect(text).toContain(`stickerbot_journal_lag{group="bot"} ${lastSeq}`);
      expect(text).toContain(`stickerbot_journal_unacknowledged{group="bot"} ${lastSeq}`);
    }

    // Redis down: not ready, with the reason, and the metric says so; /readyz still answers at once.
    await redis.server.kill();
    try {
      await expect.poll(async () => (await verbose(a)).status, POLL).toBe(503);
      const started = performance.now();
      const { body } = await verbose(a);
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(body.ready).toBe(false);
      expect(body.checks.cluster?.redisReachable).toBe(false);
      expect(body.problems.some((p) => p.startsWith('Redis does not answer'))).toBe(true);
      expect(await metrics(a)).toContain('stickerbot_redis_up{daemon="a"} 0');
    } finally {
      await redis.server.restart();
    }
    await expect.poll(async () => (await verbose(a)).status, POLL).toBe(200);
    expect(await metrics(a)).toContain('stickerbot_redis_up{daemon="a"} 1');
  });

  it('leave one host as it was: the SQLite journal, no cluster facts, no cluster metrics', async () => {
    const wa = createFakeWa({ linked: true });
    const single = await harness.start(harness.dataDir(), wa);
    await expect.poll(() => single.daemon.registry?.get('main')?.status, POLL).toBe('CONNECTED');
    const { status, body } = await verbose(single);
    expect(status).toBe(200);
    expect(Object.keys(body.checks).sort()).toEqual(['journal', 'running', 'store']);
    expect(body.checks.journal).toMatchObject({ full: false, groups: [] });
    expect(body.problems).toEqual([]);
    const text = await metrics(single);
    expect(text).toContain('stickerbot_sessions{state="CONNECTED"} 1');
    expect(text).not.toMatch(/stickerbot_redis_up|stickerbot_cluster_|stickerbot_journal_unacknowledged/);
  });
});
