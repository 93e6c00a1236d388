/**
 * The emulator stack for end-to-end tests and `pnpm demo`: a wa-sim emulator on loopback
 * (its noise root trusted through wa-sim's guarded, latched, test-only override), the
 * unmodified daemon built with `createDaemon` and its production Baileys socket factory
 * pointed at it, and a raw worker Socket.IO client that records every journal entry.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createBaileysSocketFactory,
  createDaemon,
  loadConfig,
  type Daemon,
  type QrPrinter,
} from '@stickerbot/daemon';
import { createLogger } from '@stickerbot/runtime';
import {
  PROTOCOL_VERSION,
  WORKER_NAMESPACE,
  type JournalEntry,
  type Result,
  type Session,
  type WorkerClientToServerEvents,
  type WorkerCommandArgs,
  type WorkerCommandName,
  type WorkerCommandResult,
  type WorkerServerToClientEvents,
} from '@stickerbot/protocol';
import { restoreWhatsAppNoiseRoot, startSim, trustEmulatorNoiseRoot, type Sim } from '@stickerbot/wa-sim';
import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';

const LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'silent';

/** Polls `probe` until it returns something other than undefined/false. */
export async function waitFor<T>(probe: () => T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A started emulator whose noise root this process trusts (test-only, loopback, latched). */
export async function startTrustedSim(): Promise<Sim & { release(): Promise<void> }> {
  const sim = await startSim({ logger: pino({ level: process.env.WA_SIM_LOG ?? 'silent' }) });
  process.env.WA_SIM_TRUST_KEY = '1';
  trustEmulatorNoiseRoot(sim.url, { iUnderstandThisDisablesWhatsAppServerAuth: true });
  return Object.assign(sim, {
    async release() {
      await sim.close();
      restoreWhatsAppNoiseRoot();
    },
  });
}

/** The daemon, in-process, on a temp (or given) data folder, talking to the emulator. */
export interface SimDaemon {
  readonly daemon: Daemon;
  readonly dataDir: string;
  readonly url: string;
  readonly token: string;
  /** Every QR the session showed, in order. */
  readonly qrs: string[];
  /** Every state the session went through, in order. */
  readonly states: Session[];
  session(): Session | undefined;
  waitForStatus(status: Session['status'], timeoutMs?: number): Promise<Session>;
  stop(): Promise<void>;
}

export interface SimDaemonOptions {
  /** Reuse a data folder (a restart); a fresh temp folder otherwise. */
  dataDir?: string;
  sessionId?: string;
  /** Shows each QR (default: none; the demo passes the daemon's terminal printer). */
  qrPrinter?: QrPrinter;
}

/** Builds and starts the unmodified daemon with its production socket factory against `sim`. */
export async function startSimDaemon(sim: Sim, options: SimDaemonOptions = {}): Promise<SimDaemon> {
  const sessionId = options.sessionId ?? 'main';
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'stickerbot-sim-e2e-'));
  const config = loadConfig({
    STICKERBOT_DATA_DIR: dataDir,
    STICKERBOT_PORT: '0',
    STICKERBOT_SESSIONS: sessionId,
    STICKERBOT_WA_URL: sim.url,
    LOG_LEVEL,
  });
  const qrs: string[] = [];
  const states: Session[] = [];
  const daemon = createDaemon(
    {
      logger: createLogger({ service: 'stickerbot-daemon', level: config.logLevel }),
      socketFactory: createBaileysSocketFactory(),
      socketOptions: { fetchAgent: sim.media.fetchAgent, fetchOptions: { dispatcher: sim.media.dispatcher } },
      processMetrics: false,
      // Fast reconnects and no pacing gaps, so the suite stays quick.
      sessions: {
        supervisor: { backoff: { baseMs: 100, capMs: 1000 }, qrPrinter: options.qrPrinter ?? (() => undefined) },
        pacing: { sessionGapMs: 0, sessionJitterMs: 0, chatGapMs: 0, chatJitterMs: 0 },
      },
    },
    config,
  );
  const address = await daemon.start();
  const registry = daemon.registry;
  if (!registry || !daemon.token) throw new Error('a started daemon has a registry and a token');
  registry.on('session:qr', (payload) => void qrs.push(payload.qr));
  registry.on('session:changed', (session) => void states.push(session));
  const session = () => registry.get(sessionId);
  return {
    daemon,
    dataDir,
    url: `http://127.0.0.1:${address.port}`,
    token: daemon.token,
    qrs,
    states,
    session,
    waitForStatus: (status, timeoutMs = 30_000) =>
      waitFor(() => {
        const now = session();
        return now?.status === status ? now : undefined;
      }, `session ${sessionId} to be ${status} (now ${session()?.status})`, timeoutMs),
    stop: () => daemon.stop(),
  };
}

/** Removes a data folder made by {@link startSimDaemon}. */
export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A raw worker on `/worker`: records journal entries, acknowledges them, sends commands. */
export interface WorkerClient {
  readonly entries: JournalEntry[];
  /** Sends a worker command (a fresh command id is added) and resolves with its result. */
  command<N extends WorkerCommandName>(name: N, args: Omit<WorkerCommandArgs<N>, 'id'>): Promise<WorkerCommandResult<N>>;
  waitForEntry(match: (entry: JournalEntry) => boolean, what: string, timeoutMs?: number): Promise<JournalEntry>;
  close(): void;
}

let commandCounter = 0;

/** Connects a worker client (group `bot`) to a daemon over loopback Socket.IO. */
export async function connectWorker(url: string, token: string): Promise<WorkerClient> {
  const socket: Socket<WorkerServerToClientEvents, WorkerClientToServerEvents> = io(`${url}${WORKER_NAMESPACE}`, {
    auth: { token, protocol: PROTOCOL_VERSION },
    transports: ['websocket'],
  });
  const entries: JournalEntry[] = [];
  socket.on('events:journaled', (batch) => {
    entries.push(...batch);
    const last = batch.at(-1);
    if (last) socket.emit('event:ack', { position: last.seq });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return {
    entries,
    command<N extends WorkerCommandName>(name: N, args: Omit<WorkerCommandArgs<N>, 'id'>) {
      const withId = { id: `e2e-${process.pid}-${++commandCounter}`, ...args };
      // The typed event map cannot follow a generic command name: emit through a plain signature.
      const emitter = socket.timeout(60_000) as unknown as {
        emit(event: string, payload: unknown, ack: (err: Error | null, result: Result<WorkerCommandResult<N>>) => void): void;
      };
      return new Promise<WorkerCommandResult<N>>((resolve, reject) => {
        emitter.emit(name, withId, (err, result) => {
          if (err) reject(err);
          else if (!result.ok) reject(new Error(`${name} failed: ${result.error.code} ${result.error.message}`));
          else resolve(result.result);
        });
      });
    },
    waitForEntry: (match, what, timeoutMs = 30_000) => waitFor(() => entries.find(match), what, timeoutMs),
    close: () => void socket.close(),
  };
}
