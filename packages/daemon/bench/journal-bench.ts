/**
 * The journal measurements `pnpm bench:redis-journal` and `pnpm bench:cluster` share: the
 * SQLite journal (the daemon's `openStorage`) against the journal on Redis Streams (a private
 * `redis-server` per AOF policy), appends per second and paced latency, median of runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BotEvent } from '@stickerbot/protocol';
import { createRedisConnection, openRedisJournal, openStorage, type RedisJournal } from '@stickerbot/daemon';
import { buildTextMessage, startRedisServer, type RedisServerOptions } from '@stickerbot/daemon/test-kit';
// The daemon's own module instance (the package's source entry resolves to the same file).
import { loadBaileys } from '../src/storage/index.js';

/** Appends per row (`BENCH_EVENTS`, default 5,000). */
export const EVENTS = Math.max(100, Number(process.env.BENCH_EVENTS ?? 5_000) || 5_000);
/** Runs per figure, the median reported (`BENCH_REPEAT`, default 3). */
export const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 3) || 3);
/** Appends in flight at once in the concurrent row (16 sessions receiving at once). */
export const IN_FLIGHT = 16;
const BATCH = 100;
/** The paced rate of the latency rows, events a second. */
export const PACED_RATE = 1_000;
const PACED_EVENTS = 2_000;
/** Chats the events are spread over (they pick the partitions). */
export const CHATS = 64;

/** An AOF policy of the Redis under test. */
export type Appendfsync = NonNullable<RedisServerOptions['appendfsync']>;

/** One measured path: appends a second, or paced latencies (ms). */
export interface Row {
  path: string;
  throughput: number;
  p50?: number;
  p99?: number;
}

/** The names of the rows the summary lines quote. */
export const ROWS = {
  sqliteOne: 'SQLite append, one at a time',
  redisOne: (fsync: Appendfsync) => `Redis (${fsync}) append, one at a time`,
  redisInFlight: (fsync: Appendfsync) => `Redis (${fsync}) append, ${IN_FLIGHT} in flight`,
} as const;

type JournalInput = { sessionId: string; event: BotEvent; raw: ReturnType<typeof buildTextMessage> };

const chatOf = (i: number): string => `49151${String(i % CHATS).padStart(7, '0')}@s.whatsapp.net`;

/**
 * Loads Baileys for the journals' raw-message codec: both journals encode the raw `WAMessage`
 * with it, and its synchronous fallback (`require`) fails under tsx, which runs the benchmarks.
 */
export async function loadJournalCodec(): Promise<void> {
  await loadBaileys();
}

/** `n` text messages with their raw `WAMessage`, as the daemon journals them, ids `B<run>X<i>`. */
export function journalInputs(n: number, run: string): JournalInput[] {
  return Array.from({ length: n }, (_, i) => {
    const id = `B${run}X${i}`;
    const chat = chatOf(i);
    const raw = buildTextMessage({ from: chat.split('@')[0] as string, id, text: '!sticker please make this into a sticker' });
    const event: BotEvent = {
      type: 'message:received',
      message: { id, chat, sender: chat, fromMe: false, isGroup: false, timestamp: Date.now(), kind: 'text', text: '!sticker please make this into a sticker', backlog: false },
    };
    return { sessionId: 'default', event, raw };
  });
}

export const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
/** The `q` quantile of ascending `sorted`. */
export const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
/** A number with thousands separators and `digits` decimals; `–` for none. */
export const fmt = (value: number | undefined, digits = 0): string =>
  value === undefined || Number.isNaN(value) ? '–' : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Calls `step(i)` for `i` in `[0, count)` at `rate` a second, without waiting for one to finish before the next. */
export async function paced(count: number, rate: number, step: (i: number) => Promise<void>): Promise<void> {
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i += 1) {
    const wait = started + (i * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(step(i));
  }
  await Promise.all(pending);
}

function sqliteRuns(dataDir: string, run: number): Row[] {
  const rows: Row[] = [];
  for (const batch of [1, BATCH]) {
    const storage = openStorage(join(dataDir, `sqlite-${run}-${batch}`));
    try {
      const items = journalInputs(EVENTS, `s${run}${batch}`);
      const started = performance.now();
      if (batch === 1) for (const item of items) storage.journal.append(item);
      else for (let i = 0; i < EVENTS; i += batch) storage.journal.appendMany(items.slice(i, i + batch));
      rows.push({ path: batch === 1 ? ROWS.sqliteOne : `SQLite appendMany, ${batch} per transaction`, throughput: EVENTS / ((performance.now() - started) / 1000) });
    } finally {
      storage.close();
    }
  }
  return rows;
}

async function redisRuns(journal: RedisJournal, fsync: Appendfsync, run: number): Promise<Row[]> {
  const rows: Row[] = [];
  let items = journalInputs(EVENTS, `r${run}a`);
  let started = performance.now();
  for (const item of items) await journal.append(item);
  rows.push({ path: ROWS.redisOne(fsync), throughput: EVENTS / ((performance.now() - started) / 1000) });

  items = journalInputs(EVENTS, `r${run}b`);
  started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < items.length) await journal.append(items[next++] as JournalInput);
    }),
  );
  rows.push({ path: ROWS.redisInFlight(fsync), throughput: EVENTS / ((performance.now() - started) / 1000) });

  items = journalInputs(EVENTS, `r${run}c`);
  started = performance.now();
  for (let i = 0; i < EVENTS; i += BATCH) await journal.appendMany(items.slice(i, i + BATCH));
  rows.push({ path: `Redis (${fsync}) appendMany, ${BATCH} per script`, throughput: EVENTS / ((performance.now() - started) / 1000) });

  // Paced: one append every millisecond, each timed from its call to its resolution.
  items = journalInputs(PACED_EVENTS, `r${run}d`);
  const latencies: number[] = [];
  await paced(items.length, PACED_RATE, async (i) => {
    const at = performance.now();
    await journal.append(items[i] as JournalInput);
    latencies.push(performance.now() - at);
  });
  latencies.sort((a, b) => a - b);
  rows.push({ path: `Redis (${fsync}) append paced at ${fmt(PACED_RATE)}/s`, throughput: Number.NaN, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) });
  return rows;
}

/** Each path's median over its runs, in the order the paths were first measured. */
function medians(all: Row[][]): Row[] {
  const byPath = new Map<string, Row[]>();
  for (const row of all.flat()) byPath.set(row.path, [...(byPath.get(row.path) ?? []), row]);
  return [...byPath.entries()].map(([path, list]) => ({
    path,
    throughput: median(list.map((row) => row.throughput)),
    p50: list[0]?.p50 === undefined ? undefined : median(list.map((row) => row.p50 as number)),
    p99: list[0]?.p99 === undefined ? undefined : median(list.map((row) => row.p99 as number)),
  }));
}

/**
 * Measures the SQLite journal and, for each AOF policy, the Redis journal on a private
 * `redis-server`, `REPEAT` runs each (SQLite runs interleaved with the first policy's, so both
 * see the same machine load); returns each path's median.
 */
export async function measureJournals(policies: readonly Appendfsync[]): Promise<Row[]> {
  await loadJournalCodec();
  const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-bench-journal-'));
  const all: Row[][] = [];
  try {
    for (const [index, fsync] of policies.entries()) {
      const server = await startRedisServer({ appendfsync: fsync });
      const redis = createRedisConnection(server.url);
      try {
        const journal = await openRedisJournal({ redis });
        for (let run = 0; run < REPEAT; run += 1) {
          if (index === 0) all.push(sqliteRuns(dataDir, run));
          all.push(await redisRuns(journal, fsync, run));
        }
      } finally {
        redis.disconnect();
        await server.close();
      }
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  return medians(all);
}

/** The markdown table of `rows`. */
export function journalTable(rows: readonly Row[]): string {
  return [
    '| path | appends/s | p50 latency (ms) | p99 latency (ms) |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((row) => `| ${row.path} | ${fmt(row.throughput)} | ${fmt(row.p50, 2)} | ${fmt(row.p99, 2)} |`),
  ].join('\n');
}

/** The throughput of the row named `path` (NaN if it was not measured). */
export const throughputOf = (rows: readonly Row[], path: string): number => rows.find((row) => row.path === path)?.throughput ?? Number.NaN;
