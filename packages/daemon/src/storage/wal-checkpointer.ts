import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { SqliteDatabase } from './sqlite-database.js';

/** SQLite's default `wal_autocheckpoint` (pages), restored when the background checkpointer fails. */
export const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

/**
 * How long the WAL must have gone without a new frame before the background checkpoint
 * copies it into the database, by default (ms). A checkpoint copies every page the WAL
 * changed since the last one once, however often it changed, and the kernel counts each as
 * the 4 KB page it dirties: the pages every message touches (the journal's last leaf, the
 * database header, the index and outbox pages, each busy contact's Signal session) cost
 * once a checkpoint, not once a message. So while messages keep coming the checkpoint waits
 * (up to {@link DEFAULT_CHECKPOINT_MAX_INTERVAL_MS} or {@link DEFAULT_CHECKPOINT_MAX_FRAMES}),
 * and when they pause it runs. Nothing about durability depends on it: a commit is in the WAL.
 */
export const DEFAULT_CHECKPOINT_IDLE_MS = 30_000;

/**
 * The longest a checkpoint waits while writes keep coming (ms). Was 30 s: at one message a
 * second the checkpoint then copied about 25 pages (100 KB) each time, about 3 KB a message
 * (issue #16, D at N = 1).
 */
export const DEFAULT_CHECKPOINT_MAX_INTERVAL_MS = 300_000;

/**
 * WAL frames (1 KB pages) after which a checkpoint runs whatever the time: the WAL file
 * stays below about 32 MB (`journal_size_limit` truncates it to 64 MB after a burst),
 * reached in about 30 s at a hundred messages a second.
 */
export const DEFAULT_CHECKPOINT_MAX_FRAMES = 32_768;

/** How often the background worker looks at the WAL's length (ms): a read of 20 bytes of the `-shm` file. */
const POLL_MS = 1_000;

/** Options of {@link startWalCheckpointer}. */
export interface WalCheckpointerOptions {
  /** Quiet time after which the WAL is copied back (ms). Default {@link DEFAULT_CHECKPOINT_IDLE_MS}. */
  idleMs?: number;
  /** Longest time between checkpoints while writes keep coming (ms). Default {@link DEFAULT_CHECKPOINT_MAX_INTERVAL_MS}. */
  maxIntervalMs?: number;
  /** Frames after which a checkpoint runs at once. Default {@link DEFAULT_CHECKPOINT_MAX_FRAMES}. */
  maxFrames?: number;
  /** How often the WAL's length is read (ms, default 1 s; tests). */
  pollMs?: number;
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
//
// How many frames wait is read from the wal-index in the -shm file
// (https://www.sqlite.org/walformat.html, 32-bit integers in native byte order): mxFrame,
// the WAL's last valid frame, at offset 16, minus nBackfill, the frames already copied back
// (0 again once a writer restarts the WAL), at offset 96. Read without a lock: a torn read
// only moves one decision by a poll. Without a readable -shm file the checkpoint runs every
// maxIntervalMs.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 50');
const index = Buffer.alloc(100);
const u32 = (offset) => (workerData.littleEndian ? index.readUInt32LE(offset) : index.readUInt32BE(offset));
let shm;
// { last, waiting }: the WAL's last frame and how many frames after the last copy back.
const frames = () => {
  try {
    if (shm === undefined) shm = fs.openSync(workerData.file + '-shm', 'r');
    if (fs.readSync(shm, index, 0, 100, 0) < 100) return undefined;
    return { last: u32(16), waiting: Math.max(0, u32(16) - u32(96)) };
  } catch {
    return undefined;
  }
};
let lastRun = Date.now();
let seen = frames()?.last;
let changedAt = Date.now();
const run = () => {
  lastRun = Date.now();
  try {
    const row = db.pragma('wal_checkpoint(PASSIVE)')[0];
    parentPort.postMessage({ type: 'checkpoint', busy: row.busy, log: row.log, checkpointed: row.checkpointed });
  } catch (err) {
    parentPort.postMessage({ type: 'failed', message: String((err && err.message) || err) });
  }
};
const tick = () => {
  const now = Date.now();
  const wal = frames();
  if (wal === undefined) {
    if (now - lastRun >= workerData.maxIntervalMs) run();
    return;
  }
  if (wal.last !== seen) {
    seen = wal.last;
    changedAt = now;
  }
  if (wal.waiting === 0) return;
  if (wal.waiting >= workerData.maxFrames || now - changedAt >= workerData.idleMs || now - lastRun >= workerData.maxIntervalMs) run();
};
const timer = setInterval(tick, workerData.pollMs);
parentPort.postMessage({ type: 'ready' });
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  if (shm !== undefined) fs.closeSync(shm);
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
 * thread runs a PASSIVE checkpoint (which never blocks the writer) once the WAL was quiet for
 * `idleMs`, or holds `maxFrames`, or `maxIntervalMs` passed.
 * Durability is unchanged: a commit is in the WAL either way. If the worker fails, the
 * daemon's connection gets its automatic checkpoints back, so the WAL never grows unbounded.
 */
export function startWalCheckpointer(db: SqliteDatabase, options: WalCheckpointerOptions = {}): WalCheckpointer {
  const log = options.logger;
  const timing = {
    idleMs: Math.max(0, options.idleMs ?? DEFAULT_CHECKPOINT_IDLE_MS),
    maxIntervalMs: Math.max(10, options.maxIntervalMs ?? DEFAULT_CHECKPOINT_MAX_INTERVAL_MS),
    maxFrames: Math.max(1, options.maxFrames ?? DEFAULT_CHECKPOINT_MAX_FRAMES),
    pollMs: Math.max(5, options.pollMs ?? POLL_MS),
  };
  if (db.memory) {
    // An in-memory database has no WAL and no second connection can reach it.
    return { nextCheckpoint: () => new Promise(() => undefined), isRunning: () => false, stop: () => Promise.resolve() };
  }
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  db.pragma('wal_autocheckpoint = 0');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file: db.name, littleEndian: endianness() === 'LE', ...timing } });
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
