import path from 'node:path';
import type { BotEvent, JournalEntry } from '@stickerbot/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openBotDatabase, type BotDatabase } from '../db/bot-database.js';
import { captureLog, messageEvent, tempDir } from '../test-kit/helpers.js';
import { createEventPump, type EventPump } from './event-pump.js';

const chatJid = (name: string) => `1203630000000${name}@g.us`;

/** A handler whose every entry runs until the test releases it. */
function gatedHandler() {
  const gates = new Map<number, () => void>();
  const started: number[] = [];
  const finished: number[] = [];
  const signals = new Map<number, AbortSignal>();
  return {
    started,
    finished,
    signals,
    handle(entry: JournalEntry, signal: AbortSignal): Promise<void> {
      started.push(entry.seq);
      signals.set(entry.seq, signal);
      return new Promise<void>((resolve) => {
        gates.set(entry.seq, () => {
          finished.push(entry.seq);
          resolve();
        });
      });
    },
    release(seq: number): void {
      const gate = gates.get(seq);
      if (!gate) throw new Error(`entry ${seq} has not started`);
      gates.delete(seq);
      gate();
    },
    running: () => [...gates.keys()],
  };
}

/** Lets handler continuations and the batched commit (setImmediate) run. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

describe('event pump', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: BotDatabase;
  let seq: number;
  const open = () => openBotDatabase(path.join(dir.path, 'worker.sqlite'), 'bot');

  beforeEach(() => {
    dir = tempDir();
    db = open();
    seq = 0;
  });
  afterEach(() => {
    db.close();
    dir[Symbol.dispose]();
  });

  const entry = (event: BotEvent, sessionId = 'default'): JournalEntry => ({ seq: ++seq, sessionId, ts: Date.now(), event });
  const text = (chat: string) => entry(messageEvent({ chat: chatJid(chat), isGroup: true, text: `in ${chat}` }));
  const reaction = (chat: string): JournalEntry =>
    entry({ type: 'reaction:received', messageId: 'M1', chat: chatJid(chat), sender: '4915100000001@s.whatsapp.net', emoji: '👍', timestamp: Date.now() });

  function pumpWith(handle: (entry: JournalEntry, signal: AbortSignal) => Promise<void>, concurrency = 8): { pump: EventPump; acks: number[] } {
    const acks: number[] = [];
    const pump = createEventPump({
      progress: db.progress,
      handle,
      log: captureLog('silent').log,
      concurrency,
      ackEvery: 1,
      sendAck: (position) => {
        acks.push(position);
        return true;
      },
    });
    return { pump, acks };
  }

  it('handles the entries of one chat in journal order while chats run side by side', async () => {
    const handler = gatedHandler();
    const { pump } = pumpWith((e, s) => handler.handle(e, s), 4);
    const chats = ['a', 'b', 'a', 'c', 'b', 'a'];
    for (const name of chats) pump.receive([text(name)]);
    await settle();
    // One entry per chat at a time: the first of a, b and c.
    expect(handler.running().sort()).toEqual([1, 2, 4]);
    handler.release(4);
    handler.release(2);
    await settle();
    expect(handler.running().sort()).toEqual([1, 5]);
    handler.release(5);
    handler.release(1);
    await settle();
    handler.release(3);
    await settle();
    handler.release(6);
    await pump.idle();
    const chatOrder = (name: string) => handler.started.filter((started) => chats[started - 1] === name);
    expect(chatOrder('a')).toEqual([1, 3, 6]);
    expect(chatOrder('b')).toEqual([2, 5]);
    expect(pump.position()).toBe(6);
  });

  it("starts another chat's first entry after at most one job of a chat with ten queued", async () => {
    const handler = gatedHandler();
    const { pump } = pumpWith((e, s) => handler.handle(e, s), 1);
    for (let i = 0; i < 10; i++) pump.receive([text('videos')]);
    const ping = text('ping');
    pump.receive([ping]);
    await settle();
    expect(handler.running()).toEqual([1]);
    handler.release(1);
    await settle();
    expect(handler.running()).toEqual([ping.seq]);
  });

  it('acknowledges only the contiguous prefix and records what finished beyond it', async () => {
    const handler = gatedHandler();
    const { pump, acks } = pumpWith((e, s) => handler.handle(e, s));
    const slow = text('a');
    const fast = [text('b'), reaction('c'), text('d')];
    pump.receive([slow, ...fast]);
    await settle();
    for (const e of fast) handler.release(e.seq);
    await settle();
    expect(pump.position()).toBe(0);
    expect(acks).toEqual([]);
    expect(db.progress.position()).toBe(0);
    expect(db.progress.handledBeyond()).toEqual([2, 3, 4]);
    handler.release(slow.seq);
    await settle();
    expect(pump.position()).toBe(4);
    expect(acks).toEqual([4]);
    expect(db.progress.handledBeyond()).toEqual([]);
  });

  it('skips on replay after a crash what was handled beyond the position, messages and other entries alike', async () => {
    const handler = gatedHandler();
    const first = pumpWith((e, s) => handler.handle(e, s));
    const entries = [text('a'), reaction('b'), text('c'), text('a')];
    first.pump.receive(entries);
    await settle();
    handler.release(2);
    handler.release(3);
    await settle();
    // A SIGKILL: the pump and its handlers vanish, only the database stays.
    db.close();
    db = open();
    expect(db.progress.position()).toBe(0);

    const replayed: number[] = [];
    const second = pumpWith((e) => {
      replayed.push(e.seq);
      return Promise.resolve();
    });
    second.pump.receive(entries);
    await second.pump.idle();
    expect(replayed).toEqual([1, 4]);
    expect(second.pump.position()).toBe(4);
    expect(second.acks.at(-1)).toBe(4);
  });

  it('handles a message journaled twice under two seqs once, also across a reset while the first is in hand', async () => {
    const handler = gatedHandler();
    const { pump } = pumpWith((e, s) => handler.handle(e, s));
    const first = text('a');
    const again = { ...first, seq: ++seq };
    pump.receive([first, again]);
    await settle();
    pump.reset();
    pump.receive([first, again]);
    handler.release(first.seq);
    await pump.idle();
    expect(handler.started).toEqual([first.seq]);
    expect(pump.position()).toBe(again.seq);
    // And after a restart, the database knows it.
    const later = { ...first, seq: ++seq };
    const replayed: number[] = [];
    const next = pumpWith((e) => {
      replayed.push(e.seq);
      return Promise.resolve();
    });
    next.pump.receive([later]);
    await next.pump.idle();
    expect(replayed).toEqual([]);
    expect(next.pump.position()).toBe(later.seq);
  });

  it('stops after the entries in hand finish, abandoning those past the grace period unacknowledged', async () => {
    const handler = gatedHandler();
    const { pump } = pumpWith((e, s) => handler.handle(e, s));
    for (const name of ['a', 'b', 'c', 'd']) pump.receive([text(name)]);
    pump.receive([text('a')]);
    await settle();
    expect(handler.running().sort()).toEqual([1, 2, 3, 4]);
    const stopped = pump.stop(200);
    handler.release(1);
    handler.release(3);
    const outcome = await stopped;
    expect(outcome).toEqual({ abandoned: 2, position: 1 });
    expect(handler.signals.get(2)?.aborted).toBe(true);
    // Entry 5 (queued behind 1 in chat a) never started; 3 finished beyond the position.
    expect(handler.started).not.toContain(5);
    expect(db.progress.handledBeyond()).toEqual([3]);
    handler.release(2);
    await settle();
    expect(db.progress.position()).toBe(1);
  });

  it('handles entries below the position that arrive after a cluster takeover, and acknowledges by this connection', async () => {
    const { pump, acks } = pumpWith(() => Promise.resolve());
    const later = [text('a'), text('b')].map((e) => ({ ...e, seq: e.seq + 100 }));
    pump.receive(later);
    await pump.idle();
    expect(acks.at(-1)).toBe(102);
    // A partition taken over: its older entries are new to this worker.
    const handled: number[] = [];
    const next = pumpWith((e) => {
      handled.push(e.seq);
      return Promise.resolve();
    });
    next.pump.receive([text('c'), text('d')]);
    await next.pump.idle();
    expect(handled).toEqual([3, 4]);
    expect(next.acks.at(-1)).toBe(4);
    // The stored position never goes back.
    expect(next.pump.position()).toBe(102);
  });

  it('acknowledges the contiguous prefix in seq order, not in arrival order', async () => {
    const handler = gatedHandler();
    const { pump, acks } = pumpWith((e, s) => handler.handle(e, s));
    const early = text('a');
    const late = text('b');
    pump.receive([late]);
    pump.receive([early]);
    await settle();
    expect(handler.running().sort()).toEqual([early.seq, late.seq]);
    handler.release(late.seq);
    await settle();
    expect(acks).toEqual([]);
    handler.release(early.seq);
    await pump.idle();
    expect(acks).toEqual([late.seq]);
  });

  it('skips a repeat on one connection and drops an unsent acknowledgement on a reset', async () => {
    let connected = false;
    const acks: number[] = [];
    const handled: number[] = [];
    const pump = createEventPump({
      progress: db.progress,
      handle: (e) => {
        handled.push(e.seq);
        return Promise.resolve();
      },
      log: captureLog('silent').log,
      ackEvery: 1,
      sendAck: (position) => {
        if (connected) acks.push(position);
        return connected;
      },
    });
    const first = text('a');
    pump.receive([first, first]);
    await pump.idle();
    expect(handled).toEqual([first.seq]);
    pump.reset();
    connected = true;
    pump.flushAck();
    expect(acks).toEqual([]);
    // Delivered again on the next connection (unacknowledged): known as handled, acknowledged there.
    pump.receive([first]);
    await pump.idle();
    expect(handled).toEqual([first.seq]);
    expect(acks).toEqual([first.seq]);
  });

  it('drops entries not yet started on a reset and does not start again the one in hand when it is replayed', async () => {
    const handler = gatedHandler();
    const { pump } = pumpWith((e, s) => handler.handle(e, s), 1);
    const entries = [text('a'), text('b'), text('c')];
    pump.receive(entries);
    await settle();
    expect(handler.running()).toEqual([1]);
    pump.reset();
    handler.release(1);
    await settle();
    expect(handler.started).toEqual([1]);
    // The daemon replays everything after the committed position.
    pump.receive(entries);
    await settle();
    handler.release(2);
    await settle();
    handler.release(3);
    await pump.idle();
    expect(handler.started).toEqual([1, 2, 3]);
    expect(pump.position()).toBe(3);
  });
});
