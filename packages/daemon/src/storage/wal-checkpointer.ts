import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { SqliteDatabase } from './sqlite-database.js';

/** SQLite's default `wal_autocheckpoint` (pages), restored when the background checkpointer fails. */
export const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

/**
 * How often the background checkpoint runs by default (ms). A checkpoint copies every page
 * the WAL changed since the last one into the database file once, however often it
 * changed: the pages every message touches (the journal's last leaf and its parent, the
 * database header, the index and outbox pages, each busy contact's Signal session) are
 * copied once per interval rather than once per second (`pnpm bench:disk`). 30 s rather
 * than 5 s: a contact writing every few seconds has its session's pages copied once instead
 * of six times (issue #16, `pnpm bench:sessions --real`). The WAL holds at most this long
 * of writes (about 12 KB a message: 36 MB at 100 messages a second; `journal_size_limit`
 * truncates the file back to 64 MB after a burst); nothing about durability depends on it.
 */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 30_000;

/** Options of {@link startWalCheckpointer}. */
export interface WalCheckpointerOptions {
  /** How often the background connection checkpoints (ms). Default {@link DEFAULT_CHECKPOINT_INTERVAL_MS}. */
  intervalMs?: number;
  logger?: Pick<Logger, 'warn' | 'error' | 'debug'>;
}

/** Outcome of one background checkpoint (SQLite's `wal_checkpoint` row). */
export interface CheckpointResult {
  /** 1 when the checkpoint could not run to completion (a writer or reader was in the way). */
  busy: number;
  /** Frames in the WAL. */
  log: number;
  /** Frames copied back into the database. */
  checkpointed: number;
}

/** A running background checkpointer. */
export interface WalCheckpointer {
  /** Resolves after the next checkpoint the worker reports (tests, diagnostics). */
  nextCheckpoint(): Promise<CheckpointResult>;
  /** Whether the background worker is still running (false after a failure: autocheckpoint is back). */
  isRunning(): boolean;
  /** Stops the worker; its connection closes with its thread. Idempotent. */
  stop(): Promise<void>;
}

// Plain CommonJS: an eval'd worker loads no TypeScript and needs no loader, in tsx, in
// vitest and in the built package alike. The driver path comes from the main thread.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 50');
const run = () => {
  try {
    const row = db.pragma('wal_checkpoint(PASSIVE)')[0];
    parentPort.postMessage({ type: 'checkpoint', busy: row.busy, log: row.log, checkpointed: row.checkpointed });
  } catch (err) {
    parentPort.postMessage({ type: 'failed', message: String((err && err.message) || err) });
  }
};
const timer = setInterval(run, workerData.intervalMs);
parentPort.postMessage({ type: 'ready' });
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

type WorkerMessage = { type: 'ready' } | ({ type: 'checkpoint' } & CheckpointResult) | { type: 'failed'; message: string };

/**
 * Moves WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the
 * commit that crosses `wal_autocheckpoint` pages, on the thread that commits: with
 * `synchronous = NORMAL` that is two fsyncs inside a journal append, inside the Baileys
 * message handler, several times a second under load (measured: journal appends about
 * 1.5-2x faster without it, and the stall shows in the p99 delivery latency). So the
 * daemon's connection turns automatic checkpoints off and a second connection in a worker
 * thread runs a PASSIVE checkpoint every `intervalMs` (PASSIVE never blocks the writer).
 * Durability is unchanged: a commit is in the WAL either way. If the worker fails, the
 * daemon's connection gets its automatic checkpoints back, so the WAL never grows unbounded.
 */
export function startWalCheckpointer(db: SqliteDatabase, options: WalCheckpointerOptions = {}): WalCheckpointer {
  const log = options.logger;
  const intervalMs = Math.max(10, Math.trunc(options.intervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS));
  if (db.memory) {
    // An in-memory database has no WAL and no second connection can reach it.
    return { nextCheckpoint: () => new Promise(() => undefined), isRunning: () => false, stop: () => Promise.resolve() };
  }
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  db.pragma('wal_autocheckpoint = 0');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file: db.name, intervalMs } });
  let running = true;
  let stopping = false;
  const waiting: Array<(result: CheckpointResult) => void> = [];

  const fallBack = (reason: string): void => {
    if (!running) return;
    running = false;
    if (stopping) return;
    if (db.open) db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
    log?.error({ reason }, 'background WAL checkpointer stopped; SQLite checkpoints on commit again');
  };

  worker.on('message', (message: WorkerMessage) => {
    if (message.type === 'checkpoint') {
      const { busy, log: frames, checkpointed } = message;
      for (const resolve of waiting.splice(0)) resolve({ busy, log: frames, checkpointed });
    } else if (message.type === 'failed') {
      log?.warn({ reason: message.message }, 'WAL checkpoint failed; retrying on the next interval');
    }
  });
  worker.on('error', (err) => fallBack(err.message));
  worker.on('exit', (code) => fallBack(`worker exited with code ${code}`));
  // After the listeners: adding a 'message' listener refs the worker again, and the
  // checkpointer must never keep the daemon's process alive.
  worker.unref();

  return {
    nextCheckpoint: () => new Promise((resolve) => waiting.push(resolve)),
    isRunning: () => running,
    async stop(): Promise<void> {
      if (stopping) return;
      stopping = true;
      if (!running) return;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      const timer = setTimeout(() => void worker.terminate(), 2000);
      await exited;
      clearTimeout(timer);
      if (db.open) db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
    },
  };
}
