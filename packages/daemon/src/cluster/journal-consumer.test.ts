import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { JournalEntry } from '@stickerbot/protocol';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openJournalConsumer, type JournalConsumer, type JournalConsumerOptions } from './journal-consumer.js';
import { chats, startClusterRedis, testClient, textEvent } from '../../test/cluster-harness.js';
import { openRedisJournal, type RedisJournal } from './redis-journal.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const LEASE_MS = 1_500;
const RENEW_MS = 250;
const cleanup: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function consumerOf(journal: RedisJournal, url: string, consumerId: string, extra: Partial<JournalConsumerOptions> = {}): Promise<{ consumer: JournalConsumer; redis: Redis }> {
  const redis = testClient(url);
  const consumer = await openJournalConsumer({ journal, redis, group: 'bot', consumerId, leaseTtlMs: LEASE_MS, renewEveryMs: RENEW_MS, logger, ...extra });
  cleanup.push(async () => {
    await consumer.close().catch(() => undefined);
    redis.disconnect();
  });
  return { consumer, redis };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - started;
}

const idOf = (entry: JournalEntry): string => (entry.event.type === 'message:received' ? entry.event.message.id : '');

/** Appends `perChat` messages to each chat, round-robin; returns the ids of each chat in order. */
async function fill(journal: RedisJournal, chatList: readonly string[], perChat: number): Promise<Map<string, string[]>> {
  const byChat = new Map<string, string[]>();
  for (let round = 0; round < perChat; round += 1) {
    const batch = chatList.map((chat, c) => ({ sessionId: 'default', event: textEvent(`c${c}-${round}`, chat) }));
    await journal.appendMany(batch);
    chatList.forEach((chat, c) => byChat.set(chat, [...(byChat.get(chat) ?? []), `c${c}-${round}`]));
  }
  return byChat;
}

/** A journal with `perChat` messages in each of `chatCount` chats (see {@link fill}). */
async function filledJournal(redis: Redis, chatCount: number, perChat: number): Promise<{ journal: RedisJournal; chatList: string[]; appended: Map<string, string[]> }> {
  const journal = await openRedisJournal({ redis });
  const chatList = chats(chatCount);
  return { journal, chatList, appended: await fill(journal, chatList, perChat) };
}

/** Reads and handles (acknowledging each batch) until `done()`. */
async function drain(consumer: JournalConsumer, handled: JournalEntry[], done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!done()) {
    if (Date.now() - started > timeoutMs) throw new Error(`drain timed out with ${handled.length} handled`);
    const batch = await consumer.read({ limit: 50, blockMs: 100 });
    handled.push(...batch.entries);
    const top = batch.entries[batch.entries.length - 1];
    if (top) await consumer.ack(Math.max(...batch.entries.map((entry) => entry.seq)));
  }
}

function chatOrder(handled: readonly JournalEntry[]): Map<string, string[]> {
  const byChat = new Map<string, string[]>();
  for (const entry of handled) {
    if (entry.event.type !== 'message:received') continue;
    byChat.set(entry.event.message.chat, [...(byChat.get(entry.event.message.chat) ?? []), idOf(entry)]);
  }
  return byChat;
}

describe('openJournalConsumer', () => {
  it('divides 16 partitions fairly among two and three consumers and rebalances when one joins or leaves', async () => {
    await using env = await startClusterRedis();
    const journal = await openRedisJournal({ redis: env.redis });
    const { consumer: a } = await consumerOf(journal, env.server.url, 'a');
    expect(a.assigned()).toHaveLength(16);
    const { consumer: b } = await consumerOf(journal, env.server.url, 'b');
    const sizes = (...members: JournalConsumer[]): number[] => members.map((member) => member.assigned().length);
    const disjoint = (...members: JournalConsumer[]): boolean => new Set(members.flatMap((member) => member.assigned())).size === members.reduce((n, member) => n + member.assigned().length, 0);
    await until('8/8', () => sizes(a, b).join() === '8,8');
    expect(disjoint(a, b)).toBe(true);
    const { consumer: c } = await consumerOf(journal, env.server.url, 'c');
    await until('6/5/5', () => sizes(a, b, c).join() === '6,5,5');
    expect(disjoint(a, b, c)).toBe(true);
    await b.close();
    await until('8/8 again', () => sizes(a, c).join() === '8,8');
    expect(disjoint(a, c)).toBe(true);
  });

  it('delivers a dead consumer\'s pending entries to the consumer that takes its partitions, before newer ones, each handled once', async () => {
    await using env = await startClusterRedis();
    const { journal, chatList, appended } = await filledJournal(env.redis, 16, 10);
    const { consumer: a } = await consumerOf(journal, env.server.url, 'a');
    const { consumer: b } = await consumerOf(journal, env.server.url, 'b');
    await until('8/8', () => a.assigned().length === 8 && b.assigned().length === 8);
    // a takes a batch, handles (and acknowledges) its first half in seq order, then stops renewing.
    const taken = (await a.read({ limit: 60 })).entries;
    expect(taken).toHaveLength(60);
    const handledByA = taken.slice(0, 30);
    expect(await a.ack((handledByA[29] as JournalEntry).seq)).toBe(30);
    const aPartitions = a.assigned();
    await a.close({ handover: false });
    const died = Date.now();
    // More entries arrive after the death: they must come after the pending ones of their chat.
    const later = await fill(journal, chatList, 2);
    const takeover = await until('b holds all 16', async () => {
      await b.rebalance();
      return b.assigned().length === 16;
    });
    expect(Date.now() - died).toBeLessThan(LEASE_MS + 2 * RENEW_MS + 1_000);
    expect(takeover).toBeGreaterThan(0);
    const handledByB: JournalEntry[] = [];
    await drain(b, handledByB, () => handledByB.length + handledByA.length >= 16 * 12);
    const all = [...handledByA, ...handledByB];
    expect(all).toHaveLength(16 * 12);
    expect(new Set(all.map((entry) => entry.seq)).size).toBe(16 * 12);
    const order = chatOrder(all);
    for (const chat of chatList) expect(order.get(chat)).toEqual([...(appended.get(chat) ?? []), ...(later.get(chat) ?? [])]);
    // What a had taken and not acknowledged went to b first in each of a's partitions.
    for (const partition of aPartitions) {
      const ofPartition = handledByB.filter((entry) => journal.partitionOf('default', entry.event) === partition).map((entry) => entry.seq);
      expect(ofPartition).toEqual([...ofPartition].sort((x, y) => x - y));
    }
    expect((await journal.positions()).find((group) => group.group === 'bot')).toMatchObject({ pending: 0, unacknowledged: 0, position: await journal.lastSeq() });
  });

  it('takes over from a SIGKILLed consumer process within the lease time, in chat order, each entry handled once', { timeout: 60_000 }, async () => {
    await using env = await startClusterRedis();
    const { journal, chatList, appended } = await filledJournal(env.redis, 16, 10);
    const fixture = fileURLToPath(new URL('../../test/fixtures/journal-consumer-child.ts', import.meta.url));
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const child: ChildProcess = fork(fixture, [env.server.url, 'child', String(LEASE_MS), String(RENEW_MS)], {
      execArgv: ['--conditions=@stickerbot/source', '--import', tsx],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    cleanup.push(() => void child.kill('SIGKILL'));
    const inbox: Array<Record<string, unknown>> = [];
    child.on('message', (message: Record<string, unknown>) => inbox.push(message));
    const next = async (key: string): Promise<Record<string, unknown>> => {
      let found: Record<string, unknown> | undefined;
      await until(`the child's ${key}`, () => (found = inbox.find((message) => key in message)) !== undefined, 20_000);
      inbox.splice(inbox.indexOf(found as Record<string, unknown>), 1);
      return found as Record<string, unknown>;
    };
    await next('ready');
    const { consumer: b } = await consumerOf(journal, env.server.url, 'b');
    let childPartitions: number[] = [];
    await until('8/8', async () => {
      while (inbox.some((message) => 'assigned' in message)) childPartitions = (await next('assigned')).assigned as number[];
      return childPartitions.length === 8 && b.assigned().length === 8;
    });
    child.send({ read: 60 });
    const taken = (await next('entries')).entries as Array<{ seq: number; partition: number; id: string }>;
    expect(taken).toHaveLength(60);
    const handledByChild = taken.slice(0, 25);
    child.send({ ack: (handledByChild[24] as { seq: number }).seq });
    await next('acked');
    child.kill('SIGKILL');
    const died = Date.now();
    await until('b holds all 16', async () => {
      await b.rebalance();
      return b.assigned().length === 16;
    });
    expect(Date.now() - died).toBeLessThan(LEASE_MS + 2 * RENEW_MS + 1_000);
    const handledByB: JournalEntry[] = [];
    await drain(b, handledByB, () => handledByB.length + handledByChild.length >= 160);
    const seqs = [...handledByChild.map((entry) => entry.seq), ...handledByB.map((entry) => entry.seq)];
    expect(seqs).toHaveLength(160);
    expect(new Set(seqs).size).toBe(160);
    const ids = new Map<string, string[]>();
    for (const entry of handledByChild) {
      const chat = chatList[Number(/^c(\d+)-/.exec(entry.id)?.[1])] as string;
      ids.set(chat, [...(ids.get(chat) ?? []), entry.id]);
    }
    for (const [chat, list] of chatOrder(handledByB)) ids.set(chat, [...(ids.get(chat) ?? []), ...list]);
    for (const chat of chatList) expect(ids.get(chat)).toEqual(appended.get(chat));
  });

  it('hands a partition to a joining consumer only after the entries it delivered from it are acknowledged', async () => {
    await using env = await startClusterRedis();
    const { journal, chatList, appended } = await filledJournal(env.redis, 16, 5);
    const { consumer: a } = await consumerOf(journal, env.server.url, 'a');
    const handledByA = (await a.read({ limit: 80 })).entries;
    expect(handledByA).toHaveLength(80);
    const { consumer: b } = await consumerOf(journal, env.server.url, 'b');
    // a stops reading the partitions it hands back, but keeps their leases while their entries are in hand.
    await until('a hands back 8', async () => {
      await a.rebalance();
      return a.assigned().length === 8;
    });
    await new Promise((resolve) => setTimeout(resolve, 3 * RENEW_MS));
    await b.rebalance();
    // Only partitions a had delivered nothing from (no chat hashed to them) moved at once.
    const inHand = new Set(handledByA.map((entry) => entry.partition));
    expect(b.assigned().filter((p) => inHand.has(p))).toEqual([]);
    expect(await a.ack(Math.max(...handledByA.map((entry) => entry.seq)))).toBe(80);
    await until('b takes 8', async () => {
      await b.rebalance();
      return b.assigned().length === 8;
    });
    const later = await fill(journal, chatList, 2);
    const handledByB: JournalEntry[] = [];
    const moreByA: JournalEntry[] = [];
    const bothDone = (): boolean => handledByB.length + moreByA.length >= 32;
    await Promise.all([drain(b, handledByB, bothDone), drain(a, moreByA, bothDone)]);
    expect(handledByB.length).toBeGreaterThan(0);
    expect(moreByA.length).toBeGreaterThan(0);
    // Nothing twice, nothing missing, each chat in order (a's part, then whoever read its partition).
    const all = [...handledByA, ...moreByA, ...handledByB];
    expect(new Set(all.map((entry) => entry.seq)).size).toBe(16 * 7);
    const order = chatOrder(all);
    for (const chat of chatList) expect(order.get(chat)).toEqual([...(appended.get(chat) ?? []), ...(later.get(chat) ?? [])]);
  });

  it('goes on after Redis is SIGKILLed and restarted, losing nothing it had read or not', async () => {
    await using env = await startClusterRedis();
    const { journal } = await filledJournal(env.redis, 8, 5);
    const { consumer } = await consumerOf(journal, env.server.url, 'a', { leaseTtlMs: 5_000, renewEveryMs: 500 });
    const handled: JournalEntry[] = [];
    const first = (await consumer.read({ limit: 20 })).entries;
    handled.push(...first.slice(0, 10));
    await consumer.ack((first[9] as JournalEntry).seq);
    await env.server.kill();
    // What it had read ahead still comes out; then reads fail, typed, until Redis is back.
    const inHand = first.slice(10);
    let failure: unknown;
    while (failure === undefined) {
      await consumer.read({ limit: 10 }).then(
        (batch) => inHand.push(...batch.entries),
        (error: unknown) => (failure = error),
      );
    }
    expect(failure).toMatchObject({ code: 'REDIS_UNAVAILABLE' });
    await env.server.restart();
    // What it handed out and nobody handled is still its own: handled now, then the rest.
    handled.push(...inHand);
    await until('Redis answers again', async () => (await env.redis.ping().catch(() => '')) === 'PONG');
    const top = Math.max(...inHand.map((entry) => entry.seq));
    await until('the ack goes through', async () => (await consumer.ack(top).catch(() => -1)) === inHand.length);
    await drain(consumer, handled, () => handled.length >= 40);
    expect(handled.map((entry) => entry.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect((await journal.positions())[0]).toMatchObject({ group: 'bot', position: 40, unacknowledged: 0 });
  });

  it('never trims what the slow group has not acknowledged', async () => {
    await using env = await startClusterRedis();
    const { journal, chatList } = await filledJournal(env.redis, 8, 10);
    const { consumer: fast } = await consumerOf(journal, env.server.url, 'fast-1', { group: 'fast' });
    const { consumer: slow } = await consumerOf(journal, env.server.url, 'slow-1', { group: 'slow' });
    const fastHandled: JournalEntry[] = [];
    await drain(fast, fastHandled, () => fastHandled.length >= 80);
    const slowHandled: JournalEntry[] = [];
    const first = (await slow.read({ limit: 30 })).entries;
    slowHandled.push(...first.slice(0, 20));
    await slow.ack((first[19] as JournalEntry).seq);
    const policy = { maxAgeMs: 0, maxCount: 0, maxUnacknowledged: 1_000 };
    const outcome = await journal.prune(policy);
    expect(outcome.pruned).toBe(20);
    expect(outcome.unacknowledged).toBe(60);
    expect(await journal.count()).toBe(60);
    const positions = await journal.positions();
    expect(positions.find((group) => group.group === 'fast')).toMatchObject({ position: 80, unacknowledged: 0 });
    // The slow consumer read ahead (every partition up to the batch size): pending, not acknowledged.
    expect(positions.find((group) => group.group === 'slow')).toMatchObject({ position: 20, unacknowledged: 60 });
    // The slow group still gets every entry it had not acknowledged.
    await slow.close({ handover: false });
    const { consumer: slowAgain } = await consumerOf(journal, env.server.url, 'slow-2', { group: 'slow' });
    await until('slow-2 holds all 16', async () => {
      await slowAgain.rebalance();
      return slowAgain.assigned().length === 16;
    });
    await drain(slowAgain, slowHandled, () => slowHandled.length >= 80);
    expect(new Set(slowHandled.map((entry) => entry.seq)).size).toBe(80);
    expect((await journal.prune(policy)).pruned).toBe(60);
    expect(await journal.count()).toBe(0);
    // A retention policy keeps acknowledged entries younger than maxAgeMs and the newest maxCount.
    await fill(journal, chatList, 2);
    await drain(fast, fastHandled, () => fastHandled.length >= 96);
    await drain(slowAgain, slowHandled, () => slowHandled.length >= 96);
    expect((await journal.prune({ ...policy, maxAgeMs: 60_000, maxCount: 100 })).pruned).toBe(0);
    expect((await journal.prune({ ...policy, maxAgeMs: 60_000, maxCount: 4 })).pruned).toBe(12);
    expect(await journal.count()).toBe(4);
  });

  it('reads nothing from a partition whose lease moved while it was not looking (paused past its lease)', async () => {
    await using env = await startClusterRedis();
    const journal = await openRedisJournal({ redis: env.redis, partitions: 4 });
    await fill(journal, chats(8), 2);
    // Renewals far apart: between two of them this consumer is as good as paused.
    const { consumer: a } = await consumerOf(journal, env.server.url, 'a', { leaseTtlMs: 60_000, renewEveryMs: 30_000 });
    expect(a.assigned()).toEqual([0, 1, 2, 3]);
    // Its leases expire and another consumer takes partitions 0 and 1 (a new epoch).
    for (const p of [0, 1]) await env.redis.multi().hset(journal.keys.lease('bot', p), 'owner', 'b', 'epoch', 99).pexpire(journal.keys.lease('bot', p), 60_000).exec();
    const batch = await a.read({ limit: 100 });
    expect(new Set(batch.entries.map((entry) => entry.partition))).toEqual(new Set([2, 3]));
    expect(a.assigned()).toEqual([2, 3]);
    // Nothing of partitions 0 and 1 was delivered to it: all of theirs is still undelivered.
    for (const p of [0, 1]) expect(((await env.redis.xpending(journal.keys.stream(p), 'bot')) as [number])[0]).toBe(0);
  });

  it('reports a malformed stream entry as rejected with a typed error and lets the partition go on', async () => {
    await using env = await startClusterRedis();
    const journal = await openRedisJournal({ redis: env.redis, partitions: 1 });
    const { consumer } = await consumerOf(journal, env.server.url, 'a');
    await journal.append({ sessionId: 'default', event: textEvent('one', chats(1)[0] as string) });
    await env.redis.xadd(journal.keys.stream(0), '2-0', 's', 'default', 't', '1', 'e', '{"type":"call:offered"}');
    await env.redis.set(journal.keys.seq, '2');
    await journal.append({ sessionId: 'default', event: textEvent('three', chats(1)[0] as string) });
    const batch = await consumer.read({ limit: 10 });
    expect(batch.entries.map((entry) => entry.seq)).toEqual([1, 3]);
    expect(batch.rejected).toMatchObject([{ partition: 0, id: '2-0', seq: 2, error: { code: 'JOURNAL_ENTRY_MALFORMED' } }]);
    expect(await consumer.ack(3)).toBe(3);
    expect(consumer.unacknowledged()).toBe(0);
  });
});
