import { StickerbotError, type BotEvent } from '@stickerbot/protocol';
import { describe, expect, it } from 'vitest';
import { buildTextMessage } from '../test-kit/index.js';
import { partitionOf } from './partition-of.js';
import { chats, startClusterRedis, testClient, textEvent } from '../../test/cluster-harness.js';
import { ClusterError } from './redis-connection.js';
import { openRedisJournal } from './redis-journal.js';

const session = 'default';

describe('openRedisJournal', () => {
  it('appends with consecutive seqs that are the stream ids, one chat in one partition in order', async () => {
    await using env = await startClusterRedis();
    const journal = await openRedisJournal({ redis: env.redis });
    const some = chats(6);
    const appended = [];
    for (let round = 0; round < 5; round += 1) {
      for (const [c, chat] of some.entries()) appended.push(await journal.append({ sessionId: session, event: textEvent(`m${round}-${c}`, chat) }));
    }
    expect(appended.map((entry) => entry.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(await journal.lastSeq()).toBe(30);
    expect(await journal.count()).toBe(30);
    const used = new Set(some.map((chat) => partitionOf(session, chat, 16)));
    expect(used.size).toBeGreaterThan(1);
    for (const [c, chat] of some.entries()) {
      const partition = partitionOf(session, chat, 16);
      const held = (await journal.readPartition(partition, 0, 100)).filter((entry) => entry.event.type === 'message:received' && entry.event.message.chat === chat);
      // The chat's order is its stream's order, and each entry carries its seq and partition.
      expect(held.map((entry) => (entry.event as Extract<BotEvent, { type: 'message:received' }>).message.id)).toEqual(
        [0, 1, 2, 3, 4].map((round) => `m${round}-${c}`),
      );
      expect(held.every((entry) => entry.partition === partition)).toBe(true);
      const seqs = held.map((entry) => entry.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });

  it('appends a batch over several partitions with consecutive seqs, and a session event in its own partition', async () => {
    await using env = await startClusterRedis();
    const journal = await openRedisJournal({ redis: env.redis, partitions: 4 });
    await journal.append({ sessionId: session, event: textEvent('first', chats(1)[0] as string) });
    const batch = await journal.appendMany(chats(8).map((chat, i) => ({ sessionId: session, event: textEvent(`b${i}`, chat), ts: 1000 + i })));
    expect(batch.map((entry) => entry.seq)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(batch.map((entry) => entry.ts)).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007]);
    const changed: BotEvent = { type: 'session:changed', session: { id: session, status: 'CONNECTED', updatedAt: 1 } as never };
    expect(journal.partitionOf(session, changed)).toBe(partitionOf(session, undefined, 4));
    let all = 0;
    for (let p = 0; p < 4; p += 1) all += (await journal.readPartition(p, 0, 100)).length;
    expect(all).toBe(9);
    expect(await journal.appendMany([])).toEqual([]);
  });

  it('finds a raw message by session and id, and forgets it with its entry', async () => {
    await using env = await startClusterRedis();
    const journal = await openRedisJournal({ redis: env.redis });
    const chat = chats(1)[0] as string;
    const raw = buildTextMessage({ from: chat, text: 'hi there', id: 'RAW1' });
    await journal.append({ sessionId: session, event: textEvent('RAW1', chat), raw, ts: 1 });
    expect(await journal.hasMessage(session, 'RAW1')).toBe(true);
    expect(await journal.hasMessage('other', 'RAW1')).toBe(false);
    expect((await journal.findRawMessage(session, 'RAW1'))?.message?.conversation ?? (await journal.findRawMessage(session, 'RAW1'))?.message?.extendedTextMessage?.text).toBe('hi there');
    await journal.ensureGroup('bot');
    // The group acknowledged nothing: retention keeps the entry whatever its age.
    expect((await journal.prune({ maxAgeMs: 0, maxCount: 0, maxUnacknowledged: 10, now: 10 })).pruned).toBe(0);
    await journal.removeGroup('bot');
    await journal.ensureGroup('bot', 'end');
    const outcome = await journal.prune({ maxAgeMs: 0, maxCount: 0, maxUnacknowledged: 10, now: 10 });
    expect(outcome).toEqual({ pruned: 1, unacknowledged: 0, full: false });
    expect(await journal.hasMessage(session, 'RAW1')).toBe(false);
    expect(await journal.findRawMessage(session, 'RAW1')).toBeUndefined();
    expect(await journal.lastSeq()).toBe(1);
  });

  it('keeps every append that returned across a Redis SIGKILL and restart (AOF always), and seq keeps growing', async () => {
    await using env = await startClusterRedis();
    const journal = await openRedisJournal({ redis: env.redis });
    const chat = chats(3);
    const returned: number[] = [];
    // Appends in flight while Redis is killed: the ones that resolved must all be there.
    const writer = (async () => {
      for (let i = 0; i < 5_000; i += 1) {
        try {
          const entry = await journal.append({ sessionId: session, event: textEvent(`k${i}`, chat[i % 3] as string) });
          returned.push(entry.seq);
        } catch {
          return;
        }
      }
    })();
    while (returned.length < 200) await new Promise((resolve) => setTimeout(resolve, 5));
    await env.server.kill();
    await writer;
    await env.server.restart();
    const after = testClient(env.server.url);
    try {
      const reopened = await openRedisJournal({ redis: after });
      const held = new Set<number>();
      for (let p = 0; p < 16; p += 1) for (const entry of await reopened.readPartition(p, 0, 10_000)) held.add(entry.seq);
      expect(returned.length).toBeGreaterThanOrEqual(200);
      expect(returned.filter((seq) => !held.has(seq))).toEqual([]);
      const top = await reopened.lastSeq();
      expect(top).toBeGreaterThanOrEqual(Math.max(...returned));
      const next = await reopened.append({ sessionId: session, event: textEvent('after', chat[0] as string) });
      expect(next.seq).toBe(top + 1);
    } finally {
      after.disconnect();
    }
  });

  it('refuses another partition count, and a journal whose streams are ahead of its seq', async () => {
    await using env = await startClusterRedis();
    const journal = await openRedisJournal({ redis: env.redis, partitions: 8 });
    await journal.append({ sessionId: session, event: textEvent('a', chats(1)[0] as string) });
    await expect(openRedisJournal({ redis: env.redis, partitions: 16 })).rejects.toMatchObject({ code: 'JOURNAL_CONFIG' });
    await expect(openRedisJournal({ redis: env.redis, partitions: 0 })).rejects.toMatchObject({ code: 'JOURNAL_CONFIG' });
    await env.redis.del(journal.keys.seq);
    await expect(openRedisJournal({ redis: env.redis, partitions: 8 })).rejects.toMatchObject({ code: 'JOURNAL_INCONSISTENT' });
    // An append against it is refused whole, typed, and leaves the counter where it was.
    await expect(journal.appendMany([{ sessionId: session, event: textEvent('b', chats(1)[0] as string) }])).rejects.toMatchObject({
      code: 'JOURNAL_INCONSISTENT',
    });
    expect(await env.redis.get(journal.keys.seq)).toBe('0');
  });

  it('gives a typed error for malformed and unknown stream entries', async () => {
    await using env = await startClusterRedis();
    const journal = await openRedisJournal({ redis: env.redis, partitions: 1 });
    const stream = journal.keys.stream(0);
    await env.redis.xadd(stream, '1-0', 's', session, 't', '1', 'e', 'not json');
    await env.redis.xadd(stream, '2-0', 's', session, 't', '1', 'e', JSON.stringify({ type: 'call:received', chat: 'x' }));
    await env.redis.xadd(stream, '3-0', 's', session, 'e', JSON.stringify(textEvent('x', chats(1)[0] as string)));
    await env.redis.xadd(stream, '4-1', 's', session, 't', '1', 'e', JSON.stringify(textEvent('x', chats(1)[0] as string)));
    const reasons = [/not JSON/, /event/, /missing field/, /not a journal id/];
    for (let after = 0; after < 4; after += 1) {
      const error = await journal.readPartition(0, after, 1).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ClusterError);
      expect((error as ClusterError).code).toBe('JOURNAL_ENTRY_MALFORMED');
      expect((error as ClusterError).message).toMatch(reasons[after] as RegExp);
    }
    await expect(journal.readPartition(1, 0, 1)).rejects.toBeInstanceOf(StickerbotError);
  });
});
