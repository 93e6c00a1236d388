import type { JournalEntry } from '@stickerbot/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { DeliveryTarget } from '../bridge/journal-delivery.js';
import type { WorkerDeliveryRequest } from '../bridge/worker-delivery.js';
import { chats, textEvent, useClusterRedis } from '../../test/cluster-harness.js';
import { consumerIdOf, createConsumerDelivery, createConsumerDeliveryFactory } from './consumer-delivery.js';
import { openJournalConsumer } from './journal-consumer.js';
import { openRedisJournal, type RedisJournal } from './redis-journal.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const redis = useClusterRedis();

function recordingTarget(): DeliveryTarget & { packets: JournalEntry[][] } {
  const packets: JournalEntry[][] = [];
  return {
    packets,
    send: (entries) => void packets.push([...entries]),
    open: true,
    congested: false,
    drained: () => new Promise((resolve) => setImmediate(resolve)),
  };
}

function request(target: DeliveryTarget, overrides: Partial<WorkerDeliveryRequest> = {}): WorkerDeliveryRequest {
  return {
    group: 'bot',
    position: undefined,
    socketId: 'socket-1',
    target,
    batchSize: 256,
    maxUnacked: 1_000,
    liveWindow: 0,
    logger,
    onSent: () => undefined,
    onAcked: () => undefined,
    onError: (err) => {
      throw err;
    },
    ...overrides,
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Chats of a 2-partition journal: the first of each partition. */
function chatPerPartition(journal: RedisJournal): [string, string] {
  const all = chats(32);
  const of = (p: number) => all.find((chat) => journal.partitionOf('default', textEvent('x', chat)) === p) as string;
  return [of(0), of(1)];
}

async function append(journal: RedisJournal, chat: string, tag: string, count: number): Promise<number[]> {
  const entries = await journal.appendMany(Array.from({ length: count }, (_, i) => ({ sessionId: 'default', event: textEvent(`${tag}-${i}`, chat) })));
  return entries.map((entry) => entry.seq);
}

const sent = (target: { packets: JournalEntry[][] }): number[] => target.packets.flat().map((entry) => entry.seq);
const groupStatus = async (journal: RedisJournal) => (await journal.positions()).find((g) => g.group === 'bot');

describe('createConsumerDelivery', () => {
  it('holds entries a takeover brings below one still unacknowledged until the worker acknowledged what it was sent', async () => {
    const journal = await openRedisJournal({ redis: redis.connect(), partitions: 2, prefix: 'test-cd-barrier:' });
    const [chat0, chat1] = chatPerPartition(journal);
    // Consumer "other" takes both partitions alone and reads their first entries without acknowledging.
    const other = await openJournalConsumer({ journal, redis: redis.connect(), group: 'bot', consumerId: 'other', leaseTtlMs: 2_000, renewEveryMs: 200, drainTimeoutMs: 200, logger });
    redis.afterTest(() => other.close());
    const low0 = await append(journal, chat0, 'low0', 3);
    const low1 = await append(journal, chat1, 'low1', 3);
    expect((await other.read({ limit: 10 })).entries.map((e) => e.seq)).toEqual([...low0, ...low1]);

    const consumer = await openJournalConsumer({ journal, redis: redis.connect(), group: 'bot', consumerId: 'mine', leaseTtlMs: 2_000, renewEveryMs: 200, logger });
    const target = recordingTarget();
    const delivery = createConsumerDelivery(consumer, request(target), 100);
    redis.afterTest(() => delivery.stop());
    delivery.start();
    // "other" hands one partition over after its drain timeout; this connection claims its pending entries.
    await until('one partition taken over', () => target.packets.length > 0);
    const [first, second] = consumer.assigned().length === 1 && consumer.assigned()[0] === 0 ? [low0, low1] : [low1, low0];
    const mineChat = first === low0 ? chat0 : chat1;
    const otherChat = first === low0 ? chat1 : chat0;
    expect(sent(target)).toEqual(first);
    // Newer entries in both partitions; this connection gets those of its partition.
    const high = await append(journal, mineChat, 'high', 2);
    const otherHigh = await append(journal, otherChat, 'other-high', 2);
    await until('the newer entries sent', () => sent(target).length === first.length + high.length);
    // "other" leaves: its partition's pending entries (older than what is out) come to this connection...
    await other.close();
    await until('both partitions held', () => consumer.assigned().length === 2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // ...but not before the worker acknowledged everything it was sent.
    expect(sent(target)).toEqual([...first, ...high]);
    // Read (claimed) and held: not acknowledged in Redis, nor is anything the worker did not confirm.
    expect((await groupStatus(journal))?.pending).toBeGreaterThanOrEqual(first.length + high.length + second.length);
    delivery.acknowledge(high[high.length - 1] as number);
    await until('the taken-over entries sent', () => sent(target).length === first.length + high.length + second.length + otherHigh.length);
    expect(sent(target).slice(first.length + high.length)).toEqual([...second, ...otherHigh]);
    // Acknowledged in Redis only below the oldest entry the worker has not confirmed (the first taken over).
    const confirmedBelow = [...first, ...high].filter((seq) => seq < (second[0] as number)).length;
    const total = first.length + high.length + second.length + otherHigh.length;
    await until('the first acknowledgement in Redis', async () => (await groupStatus(journal))?.pending === total - confirmedBelow);
    delivery.acknowledge(otherHigh[otherHigh.length - 1] as number);
    await until('everything acknowledged in Redis', async () => (await groupStatus(journal))?.unacknowledged === 0);
  });

  it('sends at most maxUnacked entries before an acknowledgement, then as many more as were acknowledged', async () => {
    const journal = await openRedisJournal({ redis: redis.connect(), partitions: 2, prefix: 'test-cd-window:' });
    const [chat0] = chatPerPartition(journal);
    const seqs = await append(journal, chat0, 'm', 12);
    const consumer = await openJournalConsumer({ journal, redis: redis.connect(), group: 'bot', consumerId: 'mine', leaseTtlMs: 2_000, renewEveryMs: 200, logger });
    const target = recordingTarget();
    const delivery = createConsumerDelivery(consumer, request(target, { maxUnacked: 5, batchSize: 4 }), 100);
    redis.afterTest(() => delivery.stop());
    delivery.start();
    await until('the window sent', () => sent(target).length === 5);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sent(target)).toEqual(seqs.slice(0, 5));
    expect(target.packets.every((packet) => packet.length <= 4)).toBe(true);
    delivery.acknowledge(seqs[2] as number);
    await until('three more sent', () => sent(target).length === 8);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sent(target)).toEqual(seqs.slice(0, 8));
  });

  it('hands the partitions over when the connection stops, after acknowledging what the worker confirmed', async () => {
    const journal = await openRedisJournal({ redis: redis.connect(), partitions: 2, prefix: 'test-cd-stop:' });
    const [chat0, chat1] = chatPerPartition(journal);
    const seqs = [...(await append(journal, chat0, 'a', 3)), ...(await append(journal, chat1, 'b', 3))].sort((x, y) => x - y);
    const factory = createConsumerDeliveryFactory({ journal, redis: redis.connect(), daemonId: 'd1', leaseTtlMs: 5_000, renewEveryMs: 200, blockMs: 100 });
    const target = recordingTarget();
    const delivery = await factory(request(target));
    delivery.start();
    await until('everything sent', () => sent(target).length === 6);
    delivery.acknowledge(seqs[3] as number);
    delivery.stop();
    // A second connection of the group gets both partitions at once (not after the 5 s lease) and the unacknowledged rest.
    const next = recordingTarget();
    const successor = await factory(request(next, { socketId: 'socket-2' }));
    redis.afterTest(() => successor.stop());
    successor.start();
    await until('the rest delivered again', () => sent(next).length === 2, 3_000);
    expect(sent(next)).toEqual(seqs.slice(4));
  });

  it('refuses a daemon id that cannot name a consumer, and sanitizes socket ids', () => {
    expect(() => createConsumerDeliveryFactory({ journal: {} as RedisJournal, redis: redis.connect(), daemonId: 'bad id' })).toThrow(/invalid daemon id/);
    expect(consumerIdOf('d1', 'a+b/c')).toBe('d1:a_b_c');
  });
});
