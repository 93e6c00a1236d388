/**
 * The daemon (fake WhatsApp, `fake-wa-daemon.ts`) and the real worker (`packages/worker/src/main.ts`)
 * as separate child processes, plus a ledger of what the contacts sent and received. Used
 * by the cross-process tests in this folder, `pnpm test:soak` and `pnpm bench:reload`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { DaemonReport, DaemonRequest, InboundMessage, InboundVideo, SentReport } from './fake-wa-daemon.js';

/** The repository root. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const daemonEntry = fileURLToPath(new URL('./fake-wa-daemon.ts', import.meta.url));
/** Node arguments that run TypeScript source with workspace packages resolved to source. */
export const TSX_ARGS = ['--import', 'tsx', '--conditions=@stickerbot/source'];
/** Node arguments that run the worker as users do (`pnpm worker`, pm2): scripts/run.mjs. */
export const WORKER_ARGS = [join(repoRoot, 'scripts/run.mjs'), 'worker'];

/** Resolves when `check()` is true; rejects after `timeoutMs` with `what` in the message. */
/**
 * `scripts/sim-daemon.ts` (the daemon with real Baileys, trusting the emulator) as its own
 * process on `port` (0: a free one), session `default`, pointed at an emulator from `startEmulator`;
 * `env` adds or overrides variables (cluster mode's, other sessions).
 */
export function spawnSimDaemon(emulator: { wsUrl: string; caFile: string }, dataDir: string, logLevel = 'info', port = 0, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [...TSX_ARGS, join(repoRoot, 'scripts/sim-daemon.ts')], {
    cwd: repoRoot,
    env: {
      ...baseEnv(),
      STICKERBOT_DATA_DIR: dataDir,
      STICKERBOT_PORT: String(port),
      STICKERBOT_SESSIONS: 'default',
      STICKERBOT_WA_URL: emulator.wsUrl,
      WA_SIM_CA_FILE: emulator.caFile,
      LOG_LEVEL: logLevel,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves once `check` holds (it may ask asynchronously), polling every `everyMs`; rejects after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Resolves when the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL if the child has not exited within `graceMs`; resolves once it has exited. */
export async function stopWithin(child: ChildProcess, graceMs: number): Promise<void> {
  child.kill('SIGTERM');
  await Promise.race([exited(child), new Promise((resolve) => setTimeout(resolve, graceMs))]);
  await killAll([child]);
}

/** SIGKILLs every child still running and waits until each has exited (teardown). */
export async function killAll(children: readonly ChildProcess[]): Promise<void> {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(children.map(exited));
}

/** The environment every child of a test stack starts from: nothing of the caller's but PATH and HOME. */
export function baseEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test' };
}

/** Keeps the last lines of a child's output, for failure messages. */
function tail(child: ChildProcess, lines: string[], name: string): void {
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim() !== '') lines.push(`${name}: ${line}`);
      if (lines.length > 200) lines.splice(0, lines.length - 200);
    });
  }
}

/** One daemon child process. */
export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly token: string;
  readonly reports: DaemonReport[];
  request(request: DaemonRequest): void;
  /** Asks for the sessions' socket status and waits for the answer. */
  status(): Promise<Extract<DaemonReport, { t: 'status' }>['sessions']>;
}

/** A daemon and workers sharing one temp data folder, and everything the contacts saw. */
export interface Stack {
  readonly dataDir: string;
  readonly sessions: string[];
  daemon: DaemonProcess | undefined;
  worker: ChildProcess | undefined;
  /** Every message id the contacts sent, in order. */
  readonly inbound: string[];
  /** Inbound ids the daemon reported as delivered (past Baileys' ack point). */
  readonly delivered: Set<string>;
  /** Every message the bot sent, as the contacts received it, with its arrival time. */
  readonly replies: Array<SentReport & { at: number }>;
  /**
   * Distinct reply message ids per quoted inbound id (WhatsApp shows one message per id: a
   * resend under the same id after a daemon crash is the same message, not a duplicate).
   */
  readonly repliesTo: Map<string, Set<string>>;
  /** Recent output of the children, for failure messages. */
  readonly log: string[];
  /** When each worker process logged "connected to the daemon" (needs LOG_LEVEL info or lower). */
  readonly workerConnects: number[];
  startDaemon(extraEnv?: Record<string, string>): Promise<DaemonProcess>;
  /** Starts the real worker as users do (scripts/run.mjs); `watch` as `pnpm dev` does (`--watch`). */
  startWorker(extraEnv?: Record<string, string>, options?: { watch?: boolean }): ChildProcess;
  /**
   * Sends `count` messages from distinct contacts (each its own chat), round-robin over the
   * sessions: `!ping` unless `content` says otherwise (a caption with a video).
   */
  send(count: number, content?: { text: string; video?: InboundVideo }): string[];
  /** Sends these messages again, same ids (what WhatsApp does with messages the client never acked). */
  resend(ids: readonly string[]): void;
  /** Reads the worker's own records (processed message ids, position, entries handled beyond it, handler runs by command). */
  workerRecords(): { processed: Set<string>; position: number; beyond: number[]; uses: Record<string, number> };
  /** Kills every child and removes the data folder. */
  close(): Promise<void>;
}

/** Creates a stack in a fresh temp folder; nothing runs until `startDaemon`. */
export function createStack(options: { sessions?: number; workerEnv?: Record<string, string> } = {}): Stack {
  const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-stack-'));
  const sessions = Array.from({ length: options.sessions ?? 1 }, (_, i) => `s${i}`);
  const log: string[] = [];
  const workerConnects: number[] = [];
  const replies: Array<SentReport & { at: number }> = [];
  const repliesTo = new Map<string, Set<string>>();
  const delivered = new Set<string>();
  const inbound: string[] = [];
  const messagesById = new Map<string, { sessionId: string; message: InboundMessage }>();
  const children = new Set<ChildProcess>();
  let counter = 0;
  const run = Date.now().toString(36).toUpperCase();

  const stack: Stack = {
    dataDir,
    sessions,
    daemon: undefined,
    worker: undefined,
    inbound,
    delivered,
    replies,
    repliesTo,
    log,
    workerConnects,

    async startDaemon(extraEnv = {}) {
      const child = spawn(process.execPath, [...TSX_ARGS, daemonEntry], {
        cwd: repoRoot,
        env: {
          ...baseEnv(),
          STICKERBOT_DATA_DIR: dataDir,
          STICKERBOT_PORT: '0',
          STICKERBOT_SESSIONS: sessions.join(','),
          LOG_LEVEL: 'warn',
          ...extraEnv,
        },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      children.add(child);
      child.once('exit', () => children.delete(child));
      // A send racing the child's death must not crash the test process.
      child.on('error', (err) => log.push(`daemon ipc: ${err.message}`));
      tail(child, log, 'daemon');
      const reports: DaemonReport[] = [];
      const waiters: Array<(report: DaemonReport) => void> = [];
      child.on('message', (raw) => {
        const report = raw as DaemonReport;
        reports.push(report);
        if (report.t === 'delivered') for (const id of report.ids) delivered.add(id);
        if (report.t === 'sent') {
          for (const item of report.items) {
            replies.push({ ...item, at: Date.now() });
            if (!item.quotedId) continue;
            const ids = repliesTo.get(item.quotedId) ?? new Set<string>();
            ids.add(item.messageId);
            repliesTo.set(item.quotedId, ids);
          }
        }
        for (const waiter of waiters.splice(0)) waiter(report);
      });
      const ready = await new Promise<Extract<DaemonReport, { t: 'ready' }>>((resolve, reject) => {
        const onExit = () => reject(new Error(`the daemon exited before it was ready:\n${log.slice(-20).join('\n')}`));
        child.once('exit', onExit);
        const check = (report: DaemonReport) => {
          if (report.t === 'ready') {
            child.off('exit', onExit);
            resolve(report);
          } else waiters.push(check);
        };
        waiters.push(check);
      });
      const daemon: DaemonProcess = {
        child,
        port: ready.port,
        token: ready.token,
        reports,
        request: (request) => {
          if (child.connected) child.send(request);
        },
        status: () =>
          new Promise((resolve) => {
            const check = (report: DaemonReport) => (report.t === 'status' ? resolve(report.sessions) : waiters.push(check));
            waiters.push(check);
            child.send({ t: 'status' } satisfies DaemonRequest);
          }),
      };
      stack.daemon = daemon;
      return daemon;
    },

    startWorker(extraEnv = {}, startOptions = {}) {
      const daemon = stack.daemon;
      if (!daemon) throw new Error('start the daemon first');
      // Watch mode as in `pnpm dev`.
      const child = spawn(process.execPath, [...WORKER_ARGS, ...(startOptions.watch ? ['--watch'] : [])], {
        cwd: repoRoot,
        env: {
          ...baseEnv(),
          STICKERBOT_DATA_DIR: dataDir,
          STICKERBOT_BRIDGE_URL: `http://127.0.0.1:${daemon.port}`,
          STICKERBOT_TOKEN: daemon.token,
          LOG_LEVEL: 'warn',
          ...options.workerEnv,
          ...extraEnv,
        },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      children.add(child);
      child.once('exit', () => children.delete(child));
      tail(child, log, 'worker');
      child.stdout?.on('data', (chunk: string) => {
        if (chunk.includes('connected to the daemon')) workerConnects.push(Date.now());
      });
      stack.worker = child;
      return child;
    },

    send(count, content = { text: '!ping' }) {
      const ids: string[] = [];
      for (let i = 0; i < count; i += 1) {
        const n = counter++;
        const sessionId = sessions[n % sessions.length] ?? 's0';
        // A contact per message: the worker's per-sender rate limit never applies.
        const message = { id: `STORM${run}X${n}`, from: `49151${String(n).padStart(8, '0')}`, ...content };
        messagesById.set(message.id, { sessionId, message });
        ids.push(message.id);
      }
      inbound.push(...ids);
      stack.resend(ids);
      return ids;
    },

    resend(ids) {
      const daemon = stack.daemon;
      if (!daemon) throw new Error('start the daemon first');
      const bySession = new Map<string, InboundMessage[]>();
      for (const id of ids) {
        const entry = messagesById.get(id);
        if (!entry) throw new Error(`unknown message ${id}`);
        bySession.set(entry.sessionId, [...(bySession.get(entry.sessionId) ?? []), entry.message]);
      }
      for (const [sessionId, messages] of bySession) daemon.request({ t: 'receive', sessionId, messages });
    },

    workerRecords() {
      const db = new Database(join(dataDir, 'worker.sqlite'), { readonly: true, fileMustExist: true });
      try {
        const processed = new Set(
          (db.prepare('SELECT message_id FROM processed_messages').all() as Array<{ message_id: string }>).map((row) => row.message_id),
        );
        const position = (db.prepare('SELECT max(seq) AS seq FROM position').get() as { seq: number | null }).seq ?? 0;
        const rows = db.prepare('SELECT command, sum(uses) AS uses FROM usage_stats GROUP BY command').all() as Array<{ command: string; uses: number }>;
        const beyond = (db.prepare('SELECT seq FROM handled_entries ORDER BY seq').all() as Array<{ seq: number }>).map((row) => row.seq);
        return { processed, position, beyond, uses: Object.fromEntries(rows.map((row) => [row.command, row.uses])) };
      } finally {
        db.close();
      }
    },

    async close() {
      for (const child of children) child.kill('SIGKILL');
      await Promise.all([...children].map(exited));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** Stops a worker with `signal` and waits for it to exit. */
export async function stopWorker(child: ChildProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  await exited(child);
}

/** How many replies quote each of `ids`, as [missing, duplicated] counts. */
export function replyGaps(stack: Stack, ids: readonly string[]): { lost: string[]; duplicated: string[] } {
  const lost: string[] = [];
  const duplicated: string[] = [];
  for (const id of ids) {
    const count = stack.repliesTo.get(id)?.size ?? 0;
    if (count === 0) lost.push(id);
    if (count > 1) duplicated.push(id);
  }
  return { lost, duplicated };
}
