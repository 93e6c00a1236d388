/**
 * The event journaler over cluster mode's journal on Redis Streams (a real redis-server):
 * appends are promises, and one session's entries must still keep the order of its events.
 */
import type { JournalEntry, Session } from '@stickerbot/protocol';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { useClusterRedis } from '../../test/cluster-harness.js';
import { openRedisJournal, type RedisJournal } from '../cluster/redis-journal.js';
import type { JournalAppend } from '../storage/index.js';
import { buildTextMessage } from '../test-kit/wa-messages.js';
import { createEventJournaler, type RegistryEmit } from './event-journaler.js';

const logger = pino({ level: 'silent' });
const redis = useClusterRedis();
const ALICE = '4915100000001@s.whatsapp.net';
const BOB = '4915100000002@s.whatsapp.net';

function session(status: Session['status']): Session {
  return { id: 's', status, reconnectAttempts: 0, updatedAt: 1 };
}

function label(entry: JournalEntry): string {
  if (entry.event.type === 'message:received') return entry.event.message.text ?? '';
  if (entry.event.type === 'session:changed') return entry.event.session.status;
  return entry.event.type;
}

/** The real journal, with the append of one chosen message held back by `ms` before it is sent to Redis. */
function slowFor(journal: RedisJournal, text: string, ms: number): RedisJournal {
  const append = async (input: JournalAppend): Promise<JournalEntry> => {
    if (input.event.type === 'message:received' && input.event.message.text === text) await new Promise((resolve) => setTimeout(resolve, ms));
    return journal.append(input);
  };
  return Object.assign(Object.create(journal) as RedisJournal, { append });
}

describe('session events over the Redis journal', () => {
  it("keeps one session's entries in the order of its events when an append is slow", async () => {
    const journal = await openRedisJournal({ redis: redis.connect(), prefix: 'test-journaler-order:' });
    const emitted: string[] = [];
    const emit: RegistryEmit = (event, ...args) => {
      if (event === 'journaled') emitted.push(label(args[0] as JournalEntry));
    };
    const events = createEventJournaler({ sessionId: 's', journal: slowFor(journal, 'slow', 100), emit, logger, selfJid: () => undefined });

    const received = events.received(buildTextMessage({ from: ALICE, id: 'M1', text: 'slow' }), 'notify');
    events.sessionChanged(session('RECONNECTING'));
    const second = events.received(buildTextMessage({ from: BOB, id: 'M2', text: 'second' }), 'notify');
    events.upsert({ type: 'notify', messages: [buildTextMessage({ from: ALICE, id: 'M3', text: 'third' }), buildTextMessage({ from: BOB, id: 'M4', text: 'fourth' })] });
    events.sessionChanged(session('CONNECTED'));
    expect(received).toBeInstanceOf(Promise);
    await Promise.all([received, second]);
    await expect.poll(() => emitted.length).toBe(6);

    const all = (await Promise.all(Array.from({ length: journal.partitions }, (_, p) => journal.readPartition(p, 0, 100)))).flat();
    const bySeq = all.sort((a, b) => a.seq - b.seq).map(label);
    expect(bySeq).toEqual(['slow', 'RECONNECTING', 'second', 'third', 'fourth', 'CONNECTED']);
    expect(emitted).toEqual(bySeq);
  });

  it('resolves received only once Redis has the message, refuses it when Redis refuses, and skips one journaled before', async () => {
    const client = redis.connect();
    const journal = await openRedisJournal({ redis: client, prefix: 'test-journaler-receipt:' });
    const events = createEventJournaler({ sessionId: 's', journal, emit: () => undefined, logger, selfJid: () => undefined });
    await events.received(buildTextMessage({ from: ALICE, id: 'R1', text: 'one' }), 'notify');
    expect(await journal.hasMessage('s', 'R1')).toBe(true);

    // A Redis that refuses writes (a full one under `noeviction` answers the same way).
    await client.config('SET', 'min-replicas-to-write', '1');
    try {
      await expect(events.received(buildTextMessage({ from: ALICE, id: 'R2', text: 'two' }), 'notify')).rejects.toMatchObject({ name: 'ClusterError' });
    } finally {
      await client.config('SET', 'min-replicas-to-write', '0');
    }
    expect(await journal.hasMessage('s', 'R2')).toBe(false);
    // WhatsApp delivers both again (the first one's receipt was lost, the second was refused).
    await events.received(buildTextMessage({ from: ALICE, id: 'R1', text: 'one' }), 'notify');
    await events.received(buildTextMessage({ from: ALICE, id: 'R2', text: 'two' }), 'notify');
    expect(await journal.count()).toBe(2);
  });
});
