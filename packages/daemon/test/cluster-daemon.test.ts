/**
 * Cluster mode through `createDaemon` (issue 17): two daemons over one real Redis (the test
 * kit's, AOF `appendfsync always`), each with its own SQLite folder, and one fake WhatsApp
 * shared by both (a session's socket from either daemon is the same account). The balancer
 * divides the sessions, the sessions journal to Redis Streams, and sends are fenced by the
 * lease.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Session, SessionStatus } from '@stickerbot/protocol';
import { createLogger } from '@stickerbot/runtime';
import { describe, expect, it } from 'vitest';
import { commandArgsHash } from '../src/bridge/command-args-hash.js';
import { loadConfig } from '../src/config.js';
import { createDaemon, type Daemon } from '../src/daemon.js';
import { partitionOf } from '../src/cluster/partition-of.js';
import { createRedisKeys } from '../src/cluster/redis-keys.js';
import { buildTextMessage, createFakeWa, type FakeWa } from '../src/test-kit/index.js';
import { useClusterRedis } from './cluster-harness.js';
import { login } from './daemon-harness.js';

const LEASE_MS = 10_000;
const POLL = { timeout: 10_000, interval: 25 };
const SESSIONS = ['s1', 's2', 's3', 's4'];
const ALICE = '4915100000001@s.whatsapp.net';
const cluster = useClusterRedis();

interface Member {
  daemon: Daemon;
  /** Every status each session went through on this daemon. */
  statuses: Map<string, SessionStatus[]>;
  /** Moves this daemon's lease clock forward (a process resumed after a pause). */
  jump(ms: number): void;
}

/** Starts a cluster daemon `id` over a temp folder, stopped and removed after the test. */
async function member(id: string, wa: FakeWa, prefix: string, sessions: readonly string[] = SESSIONS): Promise<Member> {
  const dataDir = mkdtempSync(join(tmpdir(), `stickerbot-cluster-${id}-`));
  cluster.afterTest(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({
    STICKERBOT_DATA_DIR: dataDir,
    STICKERBOT_PORT: '0',
    STICKERBOT_SESSIONS: sessions.join(','),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    STICKERBOT_REDIS_URL: cluster.server.url,
    STICKERBOT_DAEMON_ID: id,
    STICKERBOT_LEASE_MS: String(LEASE_MS),
  });
  let offset = 0;
  const daemon = createDaemon(
    {
      logger: createLogger({ service: `stickerbot-daemon-${id}`, level: config.logLevel }),
      socketFactory: wa.factory,
      processMetrics: false,
      cluster: { prefix, monotonicNow: () => performance.now() + offset },
    },
    config,
  );
  cluster.afterTest(() => daemon.stop());
  const statuses = new Map<string, SessionStatus[]>();
  await daemon.start();
  daemon.registry?.on('session:changed', (session: Session) => {
    const seen = statuses.get(session.id) ?? [];
    if (seen.at(-1) !== session.status) seen.push(session.status);
    statuses.set(session.id, seen);
  });
  return { daemon, statuses, jump: (ms) => (offset += ms) };
}

function owned(m: Member): string[] {
  return m.daemon.cluster?.owned() ?? [];
}

function statusOf(m: Member, id: string): SessionStatus | undefined {
  return m.daemon.registry?.get(id)?.status;
}

function text(id: string, sessionId: string, body: string) {
  const args = { id, sessionId, chat: ALICE, content: { type: 'text' as const, text: body } };
  return { args, hash: commandArgsHash(args) };
}

describe('cluster mode in createDaemon', () => {
  it('splits four sessions 2/2, and a graceful stop moves its sessions to the other at once, logged in from Redis without a QR', async () => {
    const wa = createFakeWa();
    const a = await member('a', wa, 'test-split:');
    expect(owned(a)).toEqual(SESSIONS);
    for (const id of SESSIONS) await login(wa.session(id));
    await expect.poll(() => SESSIONS.map((id) => statusOf(a, id)), POLL).toEqual(SESSIONS.map(() => 'CONNECTED'));

    const b = await member('b', wa, 'test-split:');
    await expect.poll(() => [owned(a).length, owned(b).length], POLL).toEqual([2, 2]);
    expect([...owned(a), ...owned(b)].sort()).toEqual(SESSIONS);
    await expect.poll(() => owned(b).map((id) => statusOf(b, id)), POLL).toEqual(['CONNECTED', 'CONNECTED']);
    // The creds came over through Redis: the new owner holds a completed login.
    for (const id of owned(b)) expect(b.daemon.cluster?.auth.session(id)?.hasCredentials()).toBe(true);
    expect(await b.daemon.cluster?.ownerOf(owned(b)[0] ?? '')).toBe('b');

    const leaving = owned(a);
    const moving = leaving[0] ?? '';
    // Two sends to one chat: the first goes out at once, the second waits for the chat's gap
    // and is still queued when a stops.
    const first = text('cmd-first', moving, 'first');
    const second = text('cmd-second', moving, 'second');
    expect((await a.daemon.registry?.send(first.args, first.hash))?.messageId).toMatch(/^3EB0/);
    const queued = a.daemon.registry?.send(second.args, second.hash).then(
      () => undefined,
      (error: unknown) => error,
    );
    const stoppedAt = performance.now();
    await a.daemon.stop();
    // Handed over, not lost and not sent: a retryable error, and the retry at the new owner sends it.
    expect(await queued).toMatchObject({ code: 'SESSION_NOT_CONNECTED', retryable: true });
    expect(wa.session(moving).sent.map((s) => s.content)).toEqual([{ text: 'first' }]);
    await expect.poll(() => owned(b), POLL).toEqual(SESSIONS);
    await expect.poll(() => SESSIONS.map((id) => statusOf(b, id)), POLL).toEqual(SESSIONS.map(() => 'CONNECTED'));
    // At once: long before the lease would have run out.
    expect(performance.now() - stoppedAt).toBeLessThan(LEASE_MS / 2);
    for (const id of leaving) expect(b.daemon.cluster?.auth.session(id)?.hasCredentials()).toBe(true);
    for (const id of SESSIONS) expect(b.statuses.get(id) ?? []).not.toContain('QR_REQUIRED');
    expect((await b.daemon.registry?.send(second.args, second.hash))?.messageId).toMatch(/^3EB0/);
    expect(wa.session(moving).sent.map((s) => s.content)).toEqual([{ text: 'first' }, { text: 'second' }]);
    // The old owner's last word on them was STOPPED (written while it held the lease); the new owner's is CONNECTED.
    const records = await b.daemon.cluster?.sessionStore.list();
    expect(records?.map((r) => [r.id, r.status, r.autostart])).toEqual(SESSIONS.map((id) => [id, 'CONNECTED', true]));
  });

  it('journals an inbound message to Redis before its receipt, in order per chat, and refuses it while Redis is down', async () => {
    const wa = createFakeWa({ linked: true });
    const a = await member('a', wa, 'test-receipt:', ['s1']);
    await expect.poll(() => statusOf(a, 's1'), POLL).toBe('CONNECTED');
    const socket = wa.session('s1').current;
    const beforeReceipt = socket.options.beforeReceipt;
    if (!beforeReceipt) throw new Error('the daemon journals before the receipt');
    const node = a.daemon.cluster;
    if (!node) throw new Error('cluster mode');

    // Baileys awaits each message's promise before it sends that receipt; these come at once.
    const ids = Array.from({ length: 8 }, (_, i) => `IN-${i}`);
    const inRedisWhenResolved: boolean[] = [];
    await Promise.all(
      ids.map((id, i) =>
        Promise.resolve(beforeReceipt(buildTextMessage({ from: ALICE, id, text: `hello ${i}` }), 'notify')).then(async () => {
          inRedisWhenResolved[i] = await node.journal.hasMessage('s1', id);
        }),
      ),
    );
    expect(inRedisWhenResolved).toEqual(ids.map(() => true));
    const partition = partitionOf('s1', ALICE, node.journal.partitions);
    const entries = await node.journal.readPartition(partition, 0, 100);
    const journaled = entries.flatMap((entry) => (entry.event.type === 'message:received' ? [entry.event.message.id] : []));
    expect(journaled).toEqual(ids);
    expect(entries.map((entry) => entry.seq)).toEqual(entries.map((entry) => entry.seq).sort((x, y) => x - y));

    // Redis down: the append fails, so the promise rejects and Baileys nacks the message.
    await cluster.server.kill();
    try {
      await expect(Promise.resolve(beforeReceipt(buildTextMessage({ from: ALICE, id: 'IN-LOST', text: 'while down' }), 'notify'))).rejects.toThrow();
    } finally {
      await cluster.server.restart();
    }
    // WhatsApp delivers it again: journaled once, after the others.
    await beforeReceipt(buildTextMessage({ from: ALICE, id: 'IN-LOST', text: 'while down' }), 'notify');
    await beforeReceipt(buildTextMessage({ from: ALICE, id: 'IN-LOST', text: 'while down' }), 'notify');
    const after = await node.journal.readPartition(partition, 0, 100);
    const again = after.flatMap((entry) => (entry.event.type === 'message:received' ? [entry.event.message.id] : []));
    expect(again).toEqual([...ids, 'IN-LOST']);
  });

  it('refuses to send from a daemon whose lease was taken while it was paused: WhatsApp gets nothing from it', async () => {
    const wa = createFakeWa({ linked: true });
    const a = await member('a', wa, 'test-fence:', ['s1']);
    await expect.poll(() => statusOf(a, 's1'), POLL).toBe('CONNECTED');
    const b = await member('b', wa, 'test-fence:', ['s1']);
    expect(owned(b)).toEqual([]);

    // a hangs (no renewals), and resumes past its lease: its clock jumped, its timers have not run yet.
    a.daemon.cluster?.halt();
    a.jump(LEASE_MS);
    // Meanwhile the lease ran out in Redis and b took the session over.
    const redis = cluster.connect();
    await redis.del(createRedisKeys('test-fence:').session('s1').lease);
    expect(await b.daemon.cluster?.claim('s1')).toBe(true);
    await expect.poll(() => statusOf(b, 's1'), POLL).toBe('CONNECTED');
    // a still has its socket open and believes the session CONNECTED.
    expect(statusOf(a, 's1')).toBe('CONNECTED');

    const { args, hash } = text('cmd-1', 's1', 'hello');
    const refused = await a.daemon.registry?.send(args, hash).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ code: 'SESSION_NOT_CONNECTED', retryable: true });
    expect(wa.session('s1').sent).toEqual([]);

    // The worker's retry with the same command id at the new owner goes out, once.
    expect((await b.daemon.registry?.send(args, hash))?.messageId).toMatch(/^3EB0/);
    expect(wa.session('s1').sent.map((s) => s.content)).toEqual([{ text: 'hello' }]);

    // a's timers run at last: it stops the session quietly, and what it says about it neither
    // overwrites the new owner's record nor reaches the journal after the new owner's state.
    await expect.poll(() => statusOf(a, 's1'), { ...POLL, timeout: LEASE_MS + 5_000 }).toBe('STOPPED');
    const node = b.daemon.cluster;
    expect((await node?.sessionStore.get('s1'))?.status).toBe('CONNECTED');
    const journal = node?.journal;
    const changes = journal ? (await journal.readPartition(journal.partitionOf('s1', { type: 'session:changed', session: { id: 's1', status: 'STOPPED', reconnectAttempts: 0, updatedAt: 0 } }), 0, 100)) : [];
    expect(changes.flatMap((entry) => (entry.event.type === 'session:changed' ? [entry.event.session.status] : [])).at(-1)).toBe('CONNECTED');
  });

  it('takes the lease of a session added on a daemon there and shows its QR; the other daemon leaves it alone', async () => {
    const wa = createFakeWa();
    const a = await member('a', wa, 'test-add:', ['s1', 's2']);
    for (const id of ['s1', 's2']) await login(wa.session(id));
    await expect.poll(() => [statusOf(a, 's1'), statusOf(a, 's2')], POLL).toEqual(['CONNECTED', 'CONNECTED']);
    const b = await member('b', wa, 'test-add:', ['s1', 's2']);
    await expect.poll(() => [owned(a).length, owned(b).length], POLL).toEqual([1, 1]);

    const fresh = wa.session('fresh');
    const created = await a.daemon.registry?.create('fresh');
    expect(created?.status).toBe('CONNECTING');
    expect(owned(a)).toContain('fresh');
    expect(await b.daemon.cluster?.ownerOf('fresh')).toBe('a');
    await fresh.waitForSocket();
    fresh.qr();
    await expect.poll(() => statusOf(a, 'fresh'), POLL).toBe('QR_REQUIRED');
    await expect.poll(() => a.daemon.registry?.currentQr?.('fresh')?.qr, POLL).toMatch(/^2@fake-qr-fresh/);
    // A session in the middle of its login never moves, whatever the shares say (a holds 2 of 3, b 1).
    await a.daemon.cluster?.leases.holderOf('fresh');
    expect(owned(a)).toContain('fresh');
    expect(owned(b)).not.toContain('fresh');
    await expect(b.daemon.registry?.create('fresh')).rejects.toMatchObject({ code: 'SESSION_EXISTS' });
  });
});
