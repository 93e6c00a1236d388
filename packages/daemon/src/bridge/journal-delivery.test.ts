import type { JournalEntry } from '@stickerbot/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createJournalDelivery, type DeliveryTarget } from './journal-delivery.js';
import type { Journal } from '../storage/index.js';

/** An in-memory double of the Journal contract (only what delivery uses is meaningful). */
function memoryJournal(): Journal & { add(): JournalEntry } {
  const entries: JournalEntry[] = [];
  return {
    add() {
      const entry: JournalEntry = {
        seq: entries.length + 1,
        sessionId: 's',
        ts: 0,
        event: { type: 'reaction:received', messageId: 'm', chat: '1@s.whatsapp.net', sender: '2@s.whatsapp.net', emoji: '', timestamp: 0 },
      };
      entries.push(entry);
      return entry;
    },
    append: () => {
      throw new Error('unused');
    },
    readAfter: (position, limit) => entries.filter((entry) => entry.seq > position).slice(0, limit),
    findRawMessage: () => undefined,
    hasMessage: () => false,
    ack: (_group, position) => position,
    ensureGroup: (_group, position) => position,
    position: () => 0,
    positions: () => [],
    lastSeq: () => entries.length,
    prune: () => ({ pruned: 0, unacknowledged: 0, full: false }),
    count: () => entries.length,
  };
}

function recordingTarget(
  onDrain: () => void = () => {},
): DeliveryTarget & { seqs: number[]; packets: number[][]; open: boolean; congested: boolean; drains: number } {
  const seqs: number[] = [];
  const packets: number[][] = [];
  return {
    seqs,
    packets,
    open: true,
    congested: false,
    drains: 0,
    send: (entries) => {
      packets.push(entries.map((entry) => entry.seq));
      seqs.push(...entries.map((entry) => entry.seq));
    },
    async drained() {
      this.drains++;
      await new Promise((resolve) => setImmediate(resolve));
      onDrain();
    },
  };
}

const logger = pino({ level: 'silent' });

describe('createJournalDelivery', () => {
  it('replays everything after the position in order, in batches, then goes live', async () => {
    const journal = memoryJournal();
    for (let i = 0; i < 25; i++) journal.add();
    const target = recordingTarget();
    const delivery = createJournalDelivery({ journal, target, after: 10, batchSize: 4, logger });
    delivery.start();
    expect(delivery.replaying).toBe(true);
    await delivery.idle();
    expect(target.seqs).toEqual(Array.from({ length: 15 }, (_, i) => i + 11));
    // One packet per journal batch.
    expect(target.packets.map((packet) => packet.length)).toEqual([4, 4, 4, 3]);
    delivery.offer(journal.add());
    expect(target.packets.at(-1)).toEqual([26]);
    expect(delivery.cursor).toBe(26);
  });

  it('delivers entries appended during the replay exactly once and in order, whatever order they are offered in', async () => {
    const journal = memoryJournal();
    for (let i = 0; i < 10; i++) journal.add();
    const held: JournalEntry[] = [];
    let drains = 0;
    // Live appends race the replay: one offered at once, one held back and offered late, out of order.
    const target = recordingTarget(() => {
      drains++;
      if (drains > 3) return;
      held.push(journal.add());
      delivery.offer(journal.add());
    });
    const delivery = createJournalDelivery({ journal, target, after: 0, batchSize: 3, logger });
    delivery.start();
    await delivery.idle();
    for (const entry of held.reverse()) delivery.offer(entry);
    delivery.offer(journal.add());
    await delivery.idle();
    expect(target.seqs).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
  });

  it('sends live entries through the journal in batches while the target is congested and no live window is set', async () => {
    const journal = memoryJournal();
    const target = recordingTarget();
    const delivery = createJournalDelivery({ journal, target, after: 0, batchSize: 100, logger });
    delivery.start();
    await delivery.idle();
    target.congested = true;
    for (let i = 0; i < 10; i++) delivery.offer(journal.add());
    // The first entry is read from the journal at once; the rest wait for the drain.
    expect(target.seqs).toEqual([1]);
    await delivery.idle();
    expect(target.seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(target.drains).toBe(2);
    target.congested = false;
    delivery.offer(journal.add());
    expect(target.seqs.at(-1)).toBe(11);
  });

  it('holds live entries in a bounded window while the target is congested, without reading the journal', async () => {
    const journal = memoryJournal();
    let reads = 0;
    const readAfter = journal.readAfter.bind(journal);
    journal.readAfter = (position, limit) => {
      reads++;
      return readAfter(position, limit);
    };
    const target = recordingTarget();
    const delivery = createJournalDelivery({ journal, target, after: 0, batchSize: 100, liveWindow: 5, logger });
    delivery.start();
    await delivery.idle();
    const readsWhenLive = reads;
    target.congested = true;
    for (let i = 0; i < 5; i++) delivery.offer(journal.add());
    expect(target.seqs).toEqual([]);
    await delivery.idle();
    // The whole window leaves as one packet once the connection drained.
    expect(target.packets).toEqual([[1, 2, 3, 4, 5]]);
    expect(reads).toBe(readsWhenLive);
    // A sixth entry beyond the window while congested: the window is dropped and the journal is the queue.
    for (let i = 0; i < 7; i++) delivery.offer(journal.add());
    await delivery.idle();
    target.congested = false;
    delivery.offer(journal.add());
    await delivery.idle();
    expect(target.seqs).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(reads).toBeGreaterThan(readsWhenLive);
  });

  it('keeps exactly-once order when a gap arrives while live entries wait in the window', async () => {
    const journal = memoryJournal();
    const target = recordingTarget();
    const delivery = createJournalDelivery({ journal, target, after: 0, batchSize: 2, liveWindow: 10, logger });
    delivery.start();
    await delivery.idle();
    target.congested = true;
    delivery.offer(journal.add());
    delivery.offer(journal.add());
    const held = journal.add();
    delivery.offer(journal.add());
    delivery.offer(held);
    target.congested = false;
    await delivery.idle();
    delivery.offer(journal.add());
    await delivery.idle();
    expect(target.seqs).toEqual([1, 2, 3, 4, 5]);
  });

  it('splits a window longer than the batch size into packets of at most the batch size', async () => {
    const journal = memoryJournal();
    const target = recordingTarget();
    const delivery = createJournalDelivery({ journal, target, after: 0, batchSize: 3, liveWindow: 10, logger });
    delivery.start();
    await delivery.idle();
    target.congested = true;
    for (let i = 0; i < 8; i++) delivery.offer(journal.add());
    await delivery.idle();
    expect(target.packets).toEqual([[1, 2, 3], [4, 5, 6], [7, 8]]);
    expect(delivery.cursor).toBe(8);
  });

  it('stops at maxUnacked entries out, then sends as many as were acknowledged', async () => {
    const journal = memoryJournal();
    for (let i = 0; i < 10; i++) journal.add();
    const target = recordingTarget();
    const delivery = createJournalDelivery({ journal, target, after: 2, batchSize: 4, liveWindow: 10, maxUnacked: 5, logger });
    delivery.start();
    await delivery.idle();
    expect(target.packets).toEqual([[3, 4, 5, 6], [7]]);
    expect(delivery.waitingForAck).toBe(true);
    // Live entries while waiting stay in the journal.
    delivery.offer(journal.add());
    expect(target.seqs.at(-1)).toBe(7);
    delivery.acknowledge(4);
    await delivery.idle();
    expect(target.seqs.at(-1)).toBe(9);
    delivery.acknowledge(99);
    await delivery.idle();
    expect(target.seqs).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(delivery.waitingForAck).toBe(false);
    // Back to live. The acknowledgement of 99 counted up to 9, what had been sent then, so
    // 3 of a congested burst of 4 fit; the fourth waits in the journal for the next ack.
    target.congested = true;
    for (let i = 0; i < 4; i++) delivery.offer(journal.add());
    await delivery.idle();
    expect(target.packets.at(-1)).toEqual([12, 13, 14]);
    expect(delivery.waitingForAck).toBe(true);
    delivery.acknowledge(11);
    for (let i = 0; i < 6; i++) delivery.offer(journal.add());
    await delivery.idle();
    expect(target.seqs.at(-1)).toBe(16);
    expect(delivery.waitingForAck).toBe(true);
    delivery.acknowledge(16);
    await delivery.idle();
    expect(target.seqs).toEqual(Array.from({ length: 19 }, (_, i) => i + 3));
  });

  it('fills a gap from the journal when a live entry skips ahead', async () => {
    const journal = memoryJournal();
    const target = recordingTarget();
    const delivery = createJournalDelivery({ journal, target, after: 0, batchSize: 100, logger });
    delivery.start();
    await delivery.idle();
    const first = journal.add();
    const second = journal.add();
    delivery.offer(second);
    await delivery.idle();
    delivery.offer(first);
    expect(target.seqs).toEqual([1, 2]);
  });

  it('stops sending once stopped or once the target closes', async () => {
    const journal = memoryJournal();
    for (let i = 0; i < 6; i++) journal.add();
    const target = recordingTarget();
    const delivery = createJournalDelivery({ journal, target, after: 0, batchSize: 2, logger });
    delivery.start();
    target.open = false;
    await delivery.idle();
    expect(target.seqs).toEqual([1, 2]);
    delivery.stop();
    delivery.offer(journal.add());
    expect(target.seqs).toEqual([1, 2]);
  });

  it('reports a journal read failure instead of throwing', async () => {
    const journal = memoryJournal();
    journal.readAfter = () => {
      throw new Error('database closed');
    };
    const errors: unknown[] = [];
    const delivery = createJournalDelivery({ journal, target: recordingTarget(), after: 0, batchSize: 2, logger, onError: (err) => errors.push(err) });
    delivery.start();
    await delivery.idle();
    expect(errors).toHaveLength(1);
  });
});
