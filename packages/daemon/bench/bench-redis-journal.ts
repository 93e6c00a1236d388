/**
 * `pnpm bench:redis-journal`: appends per second of the cluster's journal on Redis Streams
 * against the SQLite journal, on the same machine in the same run (`pnpm bench:cluster`
 * reports the same figures, measured by the same code: `journal-bench.ts`).
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
import { cpus } from 'node:os';
import { CHATS, EVENTS, IN_FLIGHT, REPEAT, ROWS, fmt, journalTable, measureJournals, throughputOf } from './journal-bench.js';

const rows = await measureJournals(['always', 'everysec']);
console.log(`node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} cores; ${fmt(EVENTS)} appends per row, text messages with their raw WAMessage over ${CHATS} chats; median of ${REPEAT} runs`);
console.log('');
console.log(journalTable(rows));
console.log('');
const sqlite = throughputOf(rows, ROWS.sqliteOne);
const one = throughputOf(rows, ROWS.redisOne('always'));
const many = throughputOf(rows, ROWS.redisInFlight('always'));
console.log(
  `redis journal (AOF always): ${fmt(one)} appends/s one at a time = ${fmt((100 * one) / sqlite)}% of the SQLite journal, ` +
    `${fmt(many)} appends/s with ${IN_FLIGHT} in flight = ${fmt((100 * many) / sqlite)}%`,
);
