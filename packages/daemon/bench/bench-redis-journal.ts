/**
 * `pnpm bench:redis-journal`: appends per second of the cluster's journal on Redis Streams
 * against the SQLite journal, on the same machine in the same run (the figure
 * `pnpm bench:cluster` will report).
 *
 * - SQLite: the daemon's own storage (`openStorage`: WAL, `synchronous=NORMAL`), `append`
 *   one at a time (synchronous) and `appendMany` of 100 per transaction.
 * - Redis: a private `redis-server` on loopback (the test kit's, Debian's 7.0), AOF with
 *   `appendfsync always` and then `everysec` (README, "Cluster mode"): `append` awaited one
 *   at a time (one Baileys receipt waiting on its append), with 16 appends in flight (16
 *   sessions receiving at once, each awaiting its own), and `appendMany` of 100 per script.
 *   Plus the latency of single appends paced at 1,000 a second (p50, p99).
 *
 * Every entry is a text message with its raw `WAMessage`, as the daemon journals it. Each
 * figure is the median of `BENCH_REPEAT` runs (default 3).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BotEvent } from '@stickerbot/protocol';
import { createRedisConnection, openRedisJournal, openStorage, type RedisJournal } from '@stickerbot/daemon';
import { buildTextMessage, startRedisServer } from '@stickerbot/daemon/test-kit';

const N = Math.max(100, Number(process.env.BENCH_EVENTS ?? 5_000) || 5_000);
const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 3) || 3);
const IN_FLIGHT = 16;
const BATCH = 100;
const PACED_RATE = 1_000;
const PACED_EVENTS = 2_000;
const CHATS = 64;

interface Row {
  path: string;
  throughput: number;
  p50?: number;
  p99?: number;
}

const chatOf = (i: number): string => `49151${String(i % CHATS).padStart(7, '0')}@s.whatsapp.net`;

function inputs(n: number, run: string): Array<{ sessionId: string; event: BotEvent; raw: ReturnType<typeof buildTextMessage> }> {
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

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const fmt = (value: number | undefined, digits = 0): string =>
  value === undefined || Number.isNaN(value) ? '–' : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function sqliteRuns(dataDir: string, run: number): Row[] {
  const rows: Row[] = [];
  for (const batch of [1, BATCH]) {
    const storage = openStorage(join(dataDir, `sqlite-${run}-${batch}`));
    try {
      const items = inputs(N, `s${run}${batch}`);
      const started = performance.now();
      if (batch === 1) for (const item of items) storage.journal.append(item);
      else for (let i = 0; i < N; i += batch) storage.journal.appendMany(items.slice(i, i + batch));
      rows.push({ path: batch === 1 ? 'SQLite append, one at a time' : `SQLite appendMany, ${batch} per transaction`, throughput: N / ((performance.now() - started) / 1000) });
    } finally {
      storage.close();
    }
  }
  return rows;
}

async function redisRuns(journal: RedisJournal, fsync: string, run: number): Promise<Row[]> {
  const rows: Row[] = [];
  let items = inputs(N, `r${run}a`);
  let started = performance.now();
  for (const item of items) await journal.append(item);
  rows.push({ path: `Redis (${fsync}) append, one at a time`, throughput: N / ((performance.now() - started) / 1000) });

  items = inputs(N, `r${run}b`);
  started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < items.length) await journal.append(items[next++] as (typeof items)[number]);
    }),
  );
  rows.push({ path: `Redis (${fsync}) append, ${IN_FLIGHT} in flight`, throughput: N / ((performance.now() - started) / 1000) });

  items = inputs(N, `r${run}c`);
  started = performance.now();
  for (let i = 0; i < N; i += BATCH) await journal.appendMany(items.slice(i, i + BATCH));
  rows.push({ path: `Redis (${fsync}) appendMany, ${BATCH} per script`, throughput: N / ((performance.now() - started) / 1000) });

  // Paced: one append every millisecond, each timed from its call to its resolution.
  items = inputs(PACED_EVENTS, `r${run}d`);
  const latencies: number[] = [];
  started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < items.length; i += 1) {
    const due = started + (i * 1000) / PACED_RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const at = performance.now();
    pending.push(journal.append(items[i] as (typeof items)[number]).then(() => void latencies.push(performance.now() - at)));
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  rows.push({ path: `Redis (${fsync}) append paced at ${fmt(PACED_RATE)}/s`, throughput: Number.NaN, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) });
  return rows;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-bench-redis-journal-'));
  const all: Row[][] = [];
  try {
    for (const fsync of ['always', 'everysec'] as const) {
      const server = await startRedisServer({ appendfsync: fsync });
      const redis = createRedisConnection(server.url);
      try {
        const journal = await openRedisJournal({ redis });
        for (let run = 0; run < REPEAT; run += 1) {
          if (fsync === 'always') all.push(sqliteRuns(dataDir, run));
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
  const byPath = new Map<string, Row[]>();
  for (const row of all.flat()) byPath.set(row.path, [...(byPath.get(row.path) ?? []), row]);
  const rows: Row[] = [...byPath.entries()].map(([path, list]) => ({
    path,
    throughput: median(list.map((row) => row.throughput)),
    p50: list[0]?.p50 === undefined ? undefined : median(list.map((row) => row.p50 as number)),
    p99: list[0]?.p99 === undefined ? undefined : median(list.map((row) => row.p99 as number)),
  }));
  console.log(`node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} cores; ${fmt(N)} appends per row, text messages with their raw WAMessage over ${CHATS} chats; median of ${REPEAT} runs`);
  console.log('');
  console.log('| path | appends/s | p50 latency (ms) | p99 latency (ms) |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const row of rows) console.log(`| ${row.path} | ${fmt(row.throughput)} | ${fmt(row.p50, 2)} | ${fmt(row.p99, 2)} |`);
  console.log('');
  const sqlite = rows.find((row) => row.path === 'SQLite append, one at a time')?.throughput ?? Number.NaN;
  const one = rows.find((row) => row.path === 'Redis (always) append, one at a time')?.throughput ?? Number.NaN;
  const many = rows.find((row) => row.path === `Redis (always) append, ${IN_FLIGHT} in flight`)?.throughput ?? Number.NaN;
  console.log(
    `redis journal (AOF always): ${fmt(one)} appends/s one at a time = ${fmt((100 * one) / sqlite)}% of the SQLite journal, ` +
      `${fmt(many)} appends/s with ${IN_FLIGHT} in flight = ${fmt((100 * many) / sqlite)}%`,
  );
}

await main();
