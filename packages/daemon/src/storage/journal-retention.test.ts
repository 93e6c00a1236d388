import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { BotEvent } from '@stickerbot/protocol';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createJournalRetention } from './journal-retention.js';
import { openStorage, type Storage } from './index.js';

let dir: string;
let storage: Storage;
let lines: Array<{ level: number; msg: string; [key: string]: unknown }>;

const logger = () =>
  pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const text of chunk.toString().split('\n')) if (text) lines.push(JSON.parse(text) as (typeof lines)[number]);
        done();
      },
    }),
  );

const reaction: BotEvent = {
  type: 'reaction:received',
  messageId: 'ABC',
  chat: '491511111111@s.whatsapp.net',
  sender: '491522222222@s.whatsapp.net',
  emoji: '👍',
  timestamp: 1,
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stickerbot-retention-'));
  storage = openStorage(dir);
  lines = [];
});

afterEach(() => {
  vi.useRealTimers();
  storage.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Retention that prunes everything acknowledged, 10 entries per chunk, at time 1,000. */
const chunkedRetention = () =>
  createJournalRetention({
    journal: storage.journal,
    policy: { maxAgeMs: 0, maxCount: 0, maxUnacknowledged: 100 },
    intervalMs: 60_000,
    chunkSize: 10,
    logger: logger(),
    now: () => 1_000,
  });

function append(n: number, ts: number): void {
  for (let i = 0; i < n; i += 1) storage.journal.append({ sessionId: 'default', event: reaction, ts });
}

async function flushLogs(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

describe('journal retention', () => {
  it('prunes acknowledged entries past their age and reports a healthy status', () => {
    append(10, 1_000);
    append(5, 100_000);
    storage.journal.ack('bot', 12);
    const retention = createJournalRetention({
      journal: storage.journal,
      policy: { maxAgeMs: 50_000, maxCount: 1_000, maxUnacknowledged: 100 },
      intervalMs: 60_000,
      logger: logger(),
      now: () => 120_000,
    });
    expect(retention.status()).toEqual({ ok: true, unacknowledged: 0, full: false, lastPrunedAt: null });
    expect(retention.runOnce()).toEqual({ ok: true, unacknowledged: 3, full: false, lastPrunedAt: 120_000 });
    expect(storage.journal.count()).toBe(5);
  });

  it('logs at error level and fails the status while the journal is full, then recovers', async () => {
    append(20, 0);
    storage.journal.ack('bot', 15);
    storage.journal.ack('stuck', 2);
    const retention = createJournalRetention({
      journal: storage.journal,
      policy: { maxAgeMs: 0, maxCount: 0, maxUnacknowledged: 10 },
      intervalMs: 60_000,
      logger: logger(),
      now: () => 10,
    });
    const full = retention.runOnce();
    expect(full).toMatchObject({ ok: false, full: true, unacknowledged: 18 });
    expect(storage.journal.count()).toBe(18);
    await flushLogs();
    const loud = lines.find((l) => l.level === 50);
    expect(loud?.msg).toMatch(/journal full/);
    expect(loud?.groups).toEqual(expect.arrayContaining([expect.objectContaining({ group: 'stuck', lag: 18 })]));

    storage.journal.removeGroup('stuck');
    expect(retention.runOnce()).toMatchObject({ ok: true, full: false, unacknowledged: 5 });
    await flushLogs();
    expect(lines.some((l) => l.level === 30 && /no longer full/.test(l.msg))).toBe(true);
  });

  it('says so when no worker group ever acknowledged', async () => {
    append(3, 0);
    const retention = createJournalRetention({
      journal: storage.journal,
      policy: { maxAgeMs: 0, maxCount: 0, maxUnacknowledged: 2 },
      intervalMs: 60_000,
      logger: logger(),
    });
    expect(retention.runOnce()).toMatchObject({ ok: false, full: true, unacknowledged: 3 });
    await flushLogs();
    expect(lines.find((l) => l.level === 50)?.msg).toMatch(/no consumer group has ever acknowledged/);
  });

  it('reports a failed pass instead of throwing', async () => {
    const retention = createJournalRetention({
      journal: storage.journal,
      policy: { maxAgeMs: 0, maxCount: 0, maxUnacknowledged: 2 },
      intervalMs: 60_000,
      logger: logger(),
    });
    storage.close();
    const status = retention.runOnce();
    expect(status.ok).toBe(false);
    expect(status.lastError).toMatch(/not open/);
    await flushLogs();
    expect(lines.find((l) => l.level === 50)?.msg).toBe('journal retention pass failed');
  });

  it('runs at start and then on every interval until stopped, pruning old command results too', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    storage.commands.record({ id: 'old', op: 'message:send', argsHash: 'h', result: { ok: true, result: null }, createdAt: 0 });
    const retention = createJournalRetention({
      journal: storage.journal,
      policy: { maxAgeMs: 1_000, maxCount: 1_000, maxUnacknowledged: 100 },
      intervalMs: 60_000,
      logger: logger(),
      commandLog: { log: storage.commands, maxAgeMs: 500_000 },
    });
    retention.start();
    retention.start();
    expect(retention.status().lastPrunedAt).toBe(1_000_000);
    expect(storage.commands.get('old')).toBeUndefined();

    append(4, Date.now());
    storage.journal.ack('bot', 4);
    vi.advanceTimersByTime(60_000);
    expect(retention.status().lastPrunedAt).toBe(1_060_000);
    expect(storage.journal.count()).toBe(0);

    retention.stop();
    append(2, Date.now());
    storage.journal.ack('bot', 6);
    vi.advanceTimersByTime(120_000);
    expect(retention.status().lastPrunedAt).toBe(1_060_000);
    expect(storage.journal.count()).toBe(2);
  });

  it('drains a large backlog in chunks, yielding to the event loop between them', async () => {
    append(25, 0);
    storage.journal.ack('bot', 25);
    const retention = chunkedRetention();
    const draining = retention.drain();
    expect(retention.drain()).toBe(draining);
    expect(storage.journal.count()).toBe(15);
    // Only the first chunk ran synchronously: the rest waits for later macrotasks.
    const status = await draining;
    expect(status).toMatchObject({ ok: true, unacknowledged: 0, full: false });
    expect(storage.journal.count()).toBe(0);
    expect(retention.runOnce().lastPrunedAt).toBe(1_000);
  });

  it('stops draining once stopped', async () => {
    append(30, 0);
    storage.journal.ack('bot', 30);
    const retention = chunkedRetention();
    retention.start();
    retention.stop();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(storage.journal.count()).toBe(20);
  });
});
