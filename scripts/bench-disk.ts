/**
 * `pnpm bench:disk`: what the daemon writes to disk and spends in CPU per inbound text
 * message, with the real client (issue #16: target ≤ 10 KB written per message).
 *
 * The latency stack (scripts/support/latency-stack.ts: the wa-sim emulator in this process,
 * the daemon with real Baileys and the worker as processes of their own). Contacts send
 * plain text (not commands: the bot answers nothing, so only the inbound path is measured)
 * at a steady rate; the daemon journals each before its receipt, Baileys updates the Signal
 * session it decrypted with, the worker acknowledges its position. The figures are deltas
 * of the daemon process's /proc/<pid>/io `write_bytes` (bytes sent to the storage layer:
 * WAL frames, checkpoint copies into the database file) and /proc/<pid>/stat CPU time,
 * from after a warm-up round to the moment every message is acknowledged by the worker
 * and a WAL checkpoint had time to run.
 *
 *   BENCH_MESSAGES (500)   messages measured
 *   BENCH_CONTACTS (10)    contacts sending them, round-robin
 *   BENCH_RATE (20)        messages per second, all contacts together
 *   BENCH_STRACE=<file>    also record the daemon's writes and syncs during the measured
 *                          round with strace (where the bytes go, by file)
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_CHECKPOINT_IDLE_MS, DEFAULT_POSITION_DELAY_MS } from '@stickerbot/daemon';
import { startLatencyStack } from './support/latency-stack.js';
import { until } from './support/process-stack.js';
import { sampleProcess } from './support/proc-stats.js';

const messages = Number(process.env.BENCH_MESSAGES ?? 500);
const contacts = Number(process.env.BENCH_CONTACTS ?? 10);
const rate = Number(process.env.BENCH_RATE ?? 20);

await using stack = await startLatencyStack();
stack.startWorker();
await stack.workerConnectedAt();
const pid = stack.daemonPid();
const db = new Database(join(stack.dataDir, 'daemon.sqlite'), { readonly: true, fileMustExist: true });
const journaled = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM journal WHERE type = 'message:received'");
const lastSeq = db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM journal');
const acked = db.prepare<[], { position: number | null }>('SELECT min(position) AS position FROM journal_groups');
const phones = Array.from({ length: contacts }, (_, i) => stack.phone(`4917${String(100_000 + i).padStart(7, '0')}`));

/** Sends `count` texts round-robin at `rate`, then waits until the journal holds them and the worker acknowledged everything. */
async function round(count: number, label: string): Promise<void> {
  const before = journaled.get()?.n ?? 0;
  const started = Date.now();
  for (let i = 0; i < count; i += 1) {
    const due = started + (i * 1000) / rate;
    if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    await phones[i % phones.length]?.send((phone) => phone.sendText(`${label} message ${i}: see you at the usual place at eight`));
  }
  await until(() => (journaled.get()?.n ?? 0) >= before + count, `the daemon to journal ${count} messages`, 120_000, 50);
  await until(() => (acked.get()?.position ?? 0) >= (lastSeq.get()?.seq ?? 0), 'the worker to acknowledge them', 60_000, 50);
}

// Warm-up: Signal sessions with every contact exist, the first pre-keys are spent.
await round(contacts * 2, 'warm-up');
await new Promise((resolve) => setTimeout(resolve, 3000));
const load = loadavg()[0] ?? 0;
const trace = process.env.BENCH_STRACE ? spawn('strace', ['-f', '-y', '-e', 'trace=write,pwrite64,pwritev,fsync,fdatasync', '-o', process.env.BENCH_STRACE, '-p', String(pid)], { stdio: 'ignore' }) : undefined;
if (trace) await new Promise((resolve) => setTimeout(resolve, 1000));
const start = sampleProcess(pid);
await round(messages, 'measured');
// The background checkpointer copies the WAL into the database once writes paused (its idle time, read each second): let it.
await new Promise((resolve) => setTimeout(resolve, DEFAULT_POSITION_DELAY_MS + DEFAULT_CHECKPOINT_IDLE_MS + 2000));
const end = sampleProcess(pid);
trace?.kill('SIGINT');
const rows = db.prepare<[], { type: string; n: number; bytes: number }>('SELECT type, count(*) AS n, avg(length(value)) AS bytes FROM auth_keys GROUP BY type').all();
const journal = db.prepare<[], { n: number; event: number; raw: number }>("SELECT count(*) AS n, avg(length(event)) AS event, avg(length(raw)) AS raw FROM journal WHERE type = 'message:received'").get();
process.stdout.write(`auth_keys: ${rows.map((r) => `${r.type} ${r.n} rows of ${Math.round(r.bytes)} B`).join(', ')}\n`);
process.stdout.write(`journal: ${journal?.n ?? 0} messages, event ${Math.round(journal?.event ?? 0)} B, raw ${Math.round(journal?.raw ?? 0)} B on average\n`);
db.close();

const kb = (end.writeBytes - start.writeBytes) / messages / 1024;
const cpu = (end.cpuMs - start.cpuMs) / messages;
process.stdout.write(
  `disk: ${messages} inbound texts from ${contacts} contacts at ${rate}/s: ${kb.toFixed(2)} KB written and ${cpu.toFixed(2)} ms CPU per message (daemon process; load ${load.toFixed(1)} → ${(loadavg()[0] ?? 0).toFixed(1)})\n`,
);
