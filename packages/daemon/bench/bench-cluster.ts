/**
 * `pnpm bench:cluster` (issue 17): the cluster's figures, same machine, same run, one line:
 * `cluster: journaled X ev/s on Redis = Y% of the SQLite journal, takeover median Z s, p99 W ms at 1k ev/s`.
 *
 * - X and the SQLite figure: measured as `pnpm bench:redis-journal` measures them (the same
 *   code, `journal-bench.ts`), Redis with AOF `appendfsync always` (what the README asks
 *   for the journal; `BENCH_APPENDFSYNC=everysec` to compare). X is the 16-in-flight row (a
 *   daemon appends every session's events concurrently), against SQLite one at a time; the
 *   table has the one-at-a-time Redis row too.
 * - W: end to end, append → read by a consumer of a group (`openJournalConsumer`, one worker
 *   connection, blocking reads, acknowledging what it read), appends paced at 1,000 a second;
 *   the consumer runs in this process, beside the appends.
 * - Z: `BENCH_DAEMON_TAKEOVER_RUNS` (default 3) takeovers with real daemons
 *   (`takeover-trial.ts`, `daemonTakeover`): three daemons in cluster mode against the
 *   emulator, six linked sessions, the owner of the most SIGKILLed; from the kill until every
 *   session it ran is CONNECTED at a survivor (lease time + reconnect): median and spread.
 *   Beside it, `BENCH_TAKEOVER_RUNS` (default 5) takeovers of the session balancer's processes
 *   alone (`balancerTakeover`, twelve sessions): the lease part without any WhatsApp socket.
 *   Lease `STICKERBOT_LEASE_MS` (default 30,000, the daemon's default).
 *
 * The load average is printed beside the figures: the machine is shared.
 */
import { cpus } from 'node:os';
import pino from 'pino';
import { createRedisConnection, openJournalConsumer, openRedisJournal } from '@stickerbot/daemon';
import { startRedisServer } from '@stickerbot/daemon/test-kit';
import { loadAverage } from '../../../scripts/support/proc-stats.js';
import {
  CHATS,
  EVENTS,
  IN_FLIGHT,
  PACED_RATE,
  REPEAT,
  ROWS,
  fmt,
  journalInputs,
  journalTable,
  loadJournalCodec,
  measureJournals,
  median,
  paced,
  quantile,
  throughputOf,
  type Appendfsync,
} from './journal-bench.js';
import { balancerTakeover, daemonTakeover, type TakeoverSample, type TakeoverTrial } from './takeover-trial.js';

const POLICIES: readonly Appendfsync[] = ['always', 'everysec', 'no'];
const fsync = (process.env.BENCH_APPENDFSYNC ?? 'always') as Appendfsync;
if (!POLICIES.includes(fsync)) throw new Error(`BENCH_APPENDFSYNC must be one of ${POLICIES.join(', ')}, not "${fsync}"`);
const leaseMs = Number(process.env.STICKERBOT_LEASE_MS ?? 30_000);
if (!Number.isInteger(leaseMs) || leaseMs < 1_000) throw new Error(`STICKERBOT_LEASE_MS must be a whole number of ms ≥ 1000, not "${process.env.STICKERBOT_LEASE_MS}"`);
const TAKEOVER_RUNS = Math.max(1, Number(process.env.BENCH_TAKEOVER_RUNS ?? 5) || 5);
const DAEMON_TAKEOVER_RUNS = Math.max(1, Number(process.env.BENCH_DAEMON_TAKEOVER_RUNS ?? 3) || 3);
const E2E_EVENTS = 3_000;

/** p50 and p99 (ms) from append call to the consumer's read, appends paced at {@link PACED_RATE} a second. */
async function endToEnd(redisUrl: string, run: number): Promise<{ p50: number; p99: number }> {
  await loadJournalCodec();
  const redis = createRedisConnection(redisUrl);
  const journal = await openRedisJournal({ redis, prefix: `bench-e2e-${run}:` });
  const consumer = await openJournalConsumer({ journal, redis, group: 'bench', consumerId: 'bench-1', logger: pino({ level: 'silent' }) });
  try {
    const items = journalInputs(E2E_EVENTS, `e${run}`);
    const appendedAt = new Map<string, number>();
    const latencies: number[] = [];
    let reading = true;
    const acks: Promise<number>[] = [];
    const reader = (async () => {
      while (reading || latencies.length < items.length) {
        const batch = await consumer.read({ limit: 256, blockMs: 100 });
        const now = performance.now();
        let last = 0;
        for (const entry of batch.entries) {
          const id = entry.event.type === 'message:received' ? entry.event.message.id : '';
          const at = appendedAt.get(id);
          if (at !== undefined) latencies.push(now - at);
          last = Math.max(last, entry.seq);
        }
        // Acknowledged alongside the next read, as a worker acknowledges what it handled.
        if (last > 0) acks.push(consumer.ack(last));
        if (!reading && batch.entries.length === 0) break;
      }
    })();
    await paced(items.length, PACED_RATE, async (i) => {
      const item = items[i] as (typeof items)[number];
      const message = item.event.type === 'message:received' ? item.event.message.id : '';
      appendedAt.set(message, performance.now());
      await journal.append(item);
    });
    reading = false;
    await reader;
    await Promise.all(acks);
    if (latencies.length !== items.length) throw new Error(`the consumer read ${latencies.length} of ${items.length} entries`);
    latencies.sort((a, b) => a - b);
    return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
  } finally {
    await consumer.close();
    redis.disconnect();
  }
}

/** Runs `trial` `runs` times on one Redis, each under its own key prefix. */
async function takeovers(trial: TakeoverTrial, runs: number): Promise<TakeoverSample[]> {
  const server = await startRedisServer({ appendfsync: fsync });
  try {
    const samples: TakeoverSample[] = [];
    for (let run = 0; run < runs; run += 1) samples.push(await trial.run(server.url, `bench-takeover-${run}:`));
    return samples;
  } finally {
    await trial.close?.();
    await server.close();
  }
}

const loadBefore = loadAverage();
const journals = await measureJournals([fsync]);
const loadJournal = loadAverage();

const server = await startRedisServer({ appendfsync: fsync });
const e2e: Array<{ p50: number; p99: number }> = [];
try {
  for (let run = 0; run < REPEAT; run += 1) e2e.push(await endToEnd(server.url, run));
} finally {
  await server.close();
}
const loadE2e = loadAverage();

// The lease part alone (balancer processes), then real daemons with their reconnect.
const trial = balancerTakeover({ leaseMs });
const samples = await takeovers(trial, TAKEOVER_RUNS);
const loadTakeover = loadAverage();
const daemonTrial = daemonTakeover({ leaseMs, say: (line) => console.error(line) });
const daemonSamples = await takeovers(daemonTrial, DAEMON_TAKEOVER_RUNS);
const loadDaemons = loadAverage();

const sqlite = throughputOf(journals, ROWS.sqliteOne);
const redis = throughputOf(journals, ROWS.redisInFlight(fsync));
const p99 = median(e2e.map((r) => r.p99));
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const all = sorted(samples.map((s) => s.allMs));
const first = sorted(samples.map((s) => s.firstMs));
const up = sorted(daemonSamples.map((s) => s.allMs));
const seconds = (ms: number, digits = 1) => fmt(ms / 1000, digits);
/** `median (min–max)` in seconds. */
const spread = (values: number[]) => `${seconds(median(values), 2)} (${seconds(values[0] ?? NaN, 2)}–${seconds(values.at(-1) ?? NaN, 2)})`;

console.log(`node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} cores; redis-server AOF appendfsync ${fsync}; load average ${loadBefore} at the start`);
console.log(`journal: ${fmt(EVENTS)} appends per row, text messages with their raw WAMessage over ${CHATS} chats, median of ${REPEAT} runs (load ${loadJournal})`);
console.log('');
console.log(journalTable(journals));
console.log(`| Redis (${fsync}) append → consumer read, paced at ${fmt(PACED_RATE)}/s (${fmt(E2E_EVENTS)} events, median of ${REPEAT}) | – | ${fmt(median(e2e.map((r) => r.p50)), 2)} | ${fmt(p99, 2)} |`);
console.log('');
console.log(`takeover: ${TAKEOVER_RUNS} runs; ${trial.description} (load ${loadE2e} before, ${loadTakeover} after)`);
console.log('');
console.log('| run | sessions moved | first taken (s) | all taken (s) |');
console.log('| ---: | ---: | ---: | ---: |');
samples.forEach((s, i) => console.log(`| ${i + 1} | ${s.moved} | ${seconds(s.firstMs, 2)} | ${seconds(s.allMs, 2)} |`));
console.log(`| median (min–max) | | ${spread(first)} | ${spread(all)} |`);
console.log('');
console.log(`takeover with real daemons: ${DAEMON_TAKEOVER_RUNS} runs; ${daemonTrial.description} (load ${loadDaemons} after)`);
console.log('');
console.log('| run | sessions moved | all taken (s) | first up (s) | all up (s) |');
console.log('| ---: | ---: | ---: | ---: | ---: |');
daemonSamples.forEach((s, i) => console.log(`| ${i + 1} | ${s.moved} | ${seconds(s.takenMs ?? NaN, 2)} | ${seconds(s.firstMs, 2)} | ${seconds(s.allMs, 2)} |`));
console.log(`| median (min–max) | | ${spread(sorted(daemonSamples.map((s) => s.takenMs ?? NaN)))} | ${spread(sorted(daemonSamples.map((s) => s.firstMs)))} | ${spread(up)} |`);
console.log('');
console.log(
  `X = ${IN_FLIGHT} appends in flight on Redis (AOF ${fsync}); one at a time ${fmt(throughputOf(journals, ROWS.redisOne(fsync)))} ev/s. ` +
    `Takeover = from the SIGKILL until every session the killed daemon ran is CONNECTED at a survivor (real daemons: lease + reconnect); ` +
      `the balancer processes alone took ${spread(all)} s (lease part only).`,
);
console.log(
  `cluster: journaled ${fmt(redis)} ev/s on Redis = ${fmt((100 * redis) / sqlite)}% of the SQLite journal, takeover median ${seconds(median(up))} s, p99 ${fmt(p99)} ms at 1k ev/s (load ${loadAverage()})`,
);
