/**
 * Worker delivery from the Redis journal (issue 17): two bridges (each its own daemon id,
 * SQLite storage and fake WhatsApp, the `/worker` namespace on real loopback Socket.IO with
 * `createConsumerDeliveryFactory`) over one real Redis, and two real worker bridge clients
 * of one group (their own SQLite progress databases), one on each bridge. Events of several
 * chats are appended with the Redis journal while they run. The workers divide the
 * partitions; one leaves mid-stream (a graceful stop, or a stop that abandons the entries in
 * hand unacknowledged) and the other takes its partitions: every entry is handled to
 * completion exactly once overall, and each chat's in journal order. Last, the workers are
 * child processes and one is SIGKILLed: what it handled and had not acknowledged is handled
 * again by the other (at least once; the worker's effects go through command ids), nothing
 * is lost, and each chat's order holds.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BotEvent, JournalEntry } from '@stickerbot/protocol';
import {
  createAdminTokenAuthenticator,
  createCommandExecutor,
  createConsumerDeliveryFactory,
  createHttpServer,
  createRedisConnection,
  createSessionRegistry,
  openRedisJournal,
  openStorage,
  type RedisJournal,
} from '@stickerbot/daemon';
import { createFakeWa } from '@stickerbot/daemon/test-kit';
import { createBridgeClient, openBotDatabase, type BridgeClient } from '@stickerbot/worker';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { useClusterChildren } from './support/cluster-children.js';

const TOKEN = 'cluster-delivery-token-0123456789';
const GROUP = 'bot';
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const CHATS = Array.from({ length: 12 }, (_, i) => `491520000${String(i + 1).padStart(4, '0')}@s.whatsapp.net`);

const cluster = useClusterChildren();
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function redisClient(): ReturnType<typeof createRedisConnection> {
  const redis = createRedisConnection(cluster.server.url, { maxReconnectDelayMs: 500 });
  cleanups.push(() => redis.disconnect());
  return redis;
}

async function journalOn(prefix: string): Promise<RedisJournal> {
  return openRedisJournal({ redis: redisClient(), prefix, partitions: 16 });
}

/** One daemon's bridge: real storage and registry, the worker namespace delivering from Redis. */
async function startBridge(daemonId: string, prefix: string): Promise<string> {
  const storage = openStorage(tempDir(`stickerbot-${daemonId}-`), { checkpoint: 'commit' });
  cleanups.push(() => storage.close());
  const wa = createFakeWa();
  const registry = createSessionRegistry({ storage, socketFactory: wa.factory, maxMediaBytes: 2 ** 20, logger });
  const executor = createCommandExecutor({ commandLog: storage.commands, logger });
  const bridge = createHttpServer({
    registry,
    journal: storage.journal,
    executor,
    verifyToken: (presented) => presented === TOKEN,
    dashboardAuthenticator: createAdminTokenAuthenticator((presented) => presented === TOKEN),
    logger,
    maxMediaBytes: 2 ** 20,
    startedAt: Date.now(),
    now: Date.now,
    readiness: () => ({ ready: true, problems: [], checks: { store: true, running: true, journal: null }, sessions: [] }),
    metrics: { contentType: 'text/plain', metrics: () => Promise.resolve('') },
    workerDelivery: createConsumerDeliveryFactory({
      journal: await journalOn(prefix),
      redis: redisClient(),
      daemonId,
      leaseTtlMs: 2_000,
      renewEveryMs: 300,
      blockMs: 200,
    }),
  });
  const address = await bridge.listen('127.0.0.1', 0);
  cleanups.push(() => bridge.close());
  return `http://127.0.0.1:${address.port}`;
}

interface Handled {
  worker: string;
  seq: number;
  chat: string;
  id: string;
}

/** A worker bridge client of the group; `hold(entry)` true keeps that entry in hand until the worker stops. */
function startWorker(name: string, url: string, handled: Handled[], hold: (entry: JournalEntry) => boolean = () => false): BridgeClient {
  const db = openBotDatabase(join(tempDir(`stickerbot-worker-${name}-`), 'worker.sqlite'), GROUP);
  const held: JournalEntry[] = [];
  const client = createBridgeClient({
    url,
    token: () => TOKEN,
    tokenHint: 'the test token',
    group: GROUP,
    progress: db.progress,
    log: logger.child({ worker: name }),
    ackDelayMs: 50,
    backoff: { baseMs: 100, capMs: 500 },
    async handle(entry, signal) {
      if (hold(entry)) {
        held.push(entry);
        // In hand until the worker gives up on it: never completed here.
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        return;
      }
      // A little work, so that entries are in hand when the worker leaves.
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (entry.event.type !== 'message:received') return;
      handled.push({ worker: name, seq: entry.seq, chat: entry.event.message.chat, id: entry.event.message.id });
    },
  });
  cleanups.push(async () => {
    await client.stop(0);
    db.close();
  });
  client.start();
  return Object.assign(client, { held });
}

const textEvent = (id: string, chat: string): BotEvent => ({
  type: 'message:received',
  message: { id, chat, sender: chat, fromMe: false, isGroup: false, timestamp: 1_700_000_000_000, kind: 'text', text: id, backlog: false },
});

/** Appends `rounds` messages to every chat, one batch a round, pausing between rounds; returns the ids in order. */
async function appendRounds(journal: RedisJournal, tag: string, rounds: number, pauseMs: number, appended: Map<string, string[]>): Promise<void> {
  for (let round = 0; round < rounds; round += 1) {
    const batch = CHATS.map((chat, c) => ({ sessionId: 'default', event: textEvent(`${tag}-c${c}-r${round}`, chat) }));
    await journal.appendMany(batch);
    CHATS.forEach((chat, c) => appended.set(chat, [...(appended.get(chat) ?? []), `${tag}-c${c}-r${round}`]));
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Each chat's ids in the order their handling completed, over both workers. */
function byChat(handled: readonly Handled[]): Map<string, string[]> {
  const chats = new Map<string, string[]>();
  for (const h of handled) chats.set(h.chat, [...(chats.get(h.chat) ?? []), h.id]);
  return chats;
}

function duplicates(handled: readonly Handled[]): number[] {
  const seen = new Set<number>();
  return handled.filter((h) => (seen.has(h.seq) ? true : (seen.add(h.seq), false))).map((h) => h.seq);
}

describe('worker delivery from the Redis journal', () => {
  it('divides the partitions between two workers and moves a stopped one’s to the other: each entry once, each chat in order', { timeout: 60_000 }, async () => {
    const prefix = 'test-delivery-graceful:';
    const journal = await journalOn(prefix);
    const [urlA, urlB] = await Promise.all([startBridge('d1', prefix), startBridge('d2', prefix)]);
    const handled: Handled[] = [];
    const a = startWorker('a', urlA, handled);
    const b = startWorker('b', urlB, handled);
    await until('both workers connected', () => a.connected && b.connected);
    // Set-up, not a timed assertion: a few rebalance ticks (300 ms) for a to hand b its share.
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    const appended = new Map<string, string[]>();
    const appending = appendRounds(journal, 'g', 40, 25, appended);
    await until('both workers handled entries', () => handled.some((h) => h.worker === 'a') && handled.some((h) => h.worker === 'b'));
    // They divided the chats: no chat was handled by both while both ran.
    const chatsOf = (worker: string) => new Set(handled.filter((h) => h.worker === worker).map((h) => h.chat));
    expect([...chatsOf('a')].filter((chat) => chatsOf('b').has(chat))).toEqual([]);
    await a.stop(5_000);
    const byA = handled.filter((h) => h.worker === 'a').length;
    await appending;
    const total = CHATS.length * 40;
    await until('every entry handled', () => new Set(handled.map((h) => h.seq)).size === total);
    // Settle: a late repeat would show up now.
    await until('the group acknowledged everything', async () => (await journal.positions()).find((g) => g.group === GROUP)?.unacknowledged === 0);

    expect(duplicates(handled)).toEqual([]);
    expect(handled).toHaveLength(total);
    expect(byA).toBeGreaterThan(0);
    expect(handled.filter((h) => h.worker === 'b').length).toBeGreaterThan(0);
    expect(byChat(handled)).toEqual(appended);
  });

  it('hands what a worker left in hand unacknowledged to the other worker: handled once, before the chat’s later entries', { timeout: 60_000 }, async () => {
    const prefix = 'test-delivery-crash:';
    const journal = await journalOn(prefix);
    const [urlA, urlB] = await Promise.all([startBridge('d1', prefix), startBridge('d2', prefix)]);
    const handled: Handled[] = [];
    let frozen = false;
    const a = startWorker('a', urlA, handled, () => frozen) as BridgeClient & { held: JournalEntry[] };
    const b = startWorker('b', urlB, handled);
    await until('both workers connected', () => a.connected && b.connected);
    // Set-up, not a timed assertion: a few rebalance ticks (300 ms) for a to hand b its share.
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    const appended = new Map<string, string[]>();
    await appendRounds(journal, 'p1', 5, 0, appended);
    await until('the first entries handled and acknowledged', async () => (await journal.positions()).find((g) => g.group === GROUP)?.unacknowledged === 0);
    expect(new Set(handled.map((h) => h.worker))).toEqual(new Set(['a', 'b']));

    // From now on worker a takes entries and never completes one: what a SIGKILL leaves.
    frozen = true;
    const appending = appendRounds(journal, 'p2', 30, 20, appended);
    // One entry in hand per chat of a's partitions (the chat's later ones queue behind it).
    await until('worker a holds entries', () => a.held.length >= 1 && handled.some((h) => h.worker === 'b' && h.id.startsWith('p2')));
    const outcome = await a.stop(0);
    expect(outcome.abandoned).toBeGreaterThan(0);
    await appending;

    const total = CHATS.length * 35;
    await until('every entry handled', () => new Set(handled.map((h) => h.seq)).size === total);
    await until('the group acknowledged everything', async () => (await journal.positions()).find((g) => g.group === GROUP)?.unacknowledged === 0);

    expect(duplicates(handled)).toEqual([]);
    expect(handled).toHaveLength(total);
    // What a held was handled by b.
    const heldSeqs = new Set(a.held.map((entry) => entry.seq));
    expect(handled.filter((h) => heldSeqs.has(h.seq)).map((h) => h.worker)).toEqual([...heldSeqs].map(() => 'b'));
    expect(byChat(handled)).toEqual(appended);
  });
});

describe('worker delivery from the Redis journal, worker processes', () => {
  it('gives what a SIGKILLed worker handled and did not acknowledge to the other: nothing lost, each chat in order', { timeout: 60_000 }, async () => {
    const prefix = 'test-delivery-sigkill:';
    const journal = await journalOn(prefix);
    const [urlA, urlB] = await Promise.all([startBridge('d1', prefix), startBridge('d2', prefix)]);
    const handled: Handled[] = [];
    const connectedWorkers = new Set<string>();
    const onLine = (line: Handled & { event: string }): void => {
      if (line.event === 'connected') connectedWorkers.add(line.worker);
      else handled.push({ worker: line.worker, seq: line.seq, chat: line.chat, id: line.id });
    };
    const spawnWorker = (name: string, url: string): ChildProcess =>
      cluster.spawn('bridge-worker-child.ts', prefix, { BRIDGE_URL: url, TOKEN, WORKER_NAME: name, DB_FILE: join(tempDir(`stickerbot-worker-${name}-`), 'worker.sqlite'), HANDLE_MS: '5' }, onLine);
    const a = spawnWorker('a', urlA);
    spawnWorker('b', urlB);
    await until('both workers connected', () => connectedWorkers.size === 2, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    const appended = new Map<string, string[]>();
    const appending = appendRounds(journal, 'k', 40, 25, appended);
    await until('both workers handled entries', () => handled.some((h) => h.worker === 'a') && handled.some((h) => h.worker === 'b'), 30_000);
    a.kill('SIGKILL');
    await new Promise((resolve) => a.once('exit', resolve));
    const byA = new Set(handled.filter((h) => h.worker === 'a').map((h) => h.seq));
    await appending;

    const total = CHATS.length * 40;
    await until('every entry handled', () => new Set(handled.map((h) => h.seq)).size === total, 30_000);
    await until('the group acknowledged everything', async () => (await journal.positions()).find((g) => g.group === GROUP)?.unacknowledged === 0, 30_000);

    // Handled twice only what a had handled (not acknowledged) when it died; b never twice.
    const twice = duplicates(handled);
    expect(twice.filter((seq) => !byA.has(seq))).toEqual([]);
    expect(duplicates(handled.filter((h) => h.worker === 'b'))).toEqual([]);
    // Each chat in order: the first handling of each entry, and b's own handling.
    const first = handled.filter((h, i) => handled.findIndex((other) => other.seq === h.seq) === i);
    expect(byChat(first)).toEqual(appended);
    for (const [chat, ids] of byChat(handled.filter((h) => h.worker === 'b'))) {
      const expected = appended.get(chat) ?? [];
      expect(ids).toEqual(expected.slice(expected.indexOf(ids[0] as string)));
    }
  });
});
