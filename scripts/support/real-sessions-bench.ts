/**
 * `pnpm bench:sessions --real N`: one daemon with N real Baileys sessions of realistic
 * emulated accounts, measured from outside. The emulator (wa-sim, in this process) stands for
 * WhatsApp and every phone; the daemon runs as production runs it (`node scripts/run.mjs
 * daemon`, its own process; a plain-JS preload makes its Baileys trust the emulator's noise
 * root, except for the base, measured without it since it imports Baileys); the real worker
 * answers the commands. Phases: the daemon with no session (base), one
 * session linked, N linked, idle, traffic (one message per second per session from a contact,
 * a fifth of them `!ping`), a daemon restart. Memory, CPU and writes come from /proc.
 *
 * Event latency is timed from the moment before a phone encrypts its message to the moment
 * a consumer on the bridge (its own consumer group, `bench`, beside the worker's) gets the
 * journal entry: the path every event takes to a worker. That consumer runs in its own process
 * (bench-consumer.ts), stamping with the same host clock (`Date.now()`), so its stamps do not
 * wait behind the emulator's work in this one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_CHECKPOINT_IDLE_MS, DEFAULT_POSITION_DELAY_MS } from '@stickerbot/daemon';
import type { Session } from '@stickerbot/protocol';
import { startSim, type ContactPhone, type RealisticAccount, type RealisticAccountOptions, type Sim } from '@stickerbot/wa-sim';
import { io, type Socket } from 'socket.io-client';
import { spawnJsonLines } from './cluster-children.js';
import { freePort } from './free-port.js';
import { quotedIdOf } from './latency-stack.js';
import { baseEnv, repoRoot, stopWithin, until } from './process-stack.js';
import { cpuPercent, loadAverage, mb, sampleProcess, slope, type ProcSample } from './proc-stats.js';
import { spawnWorker, type WorkerProcess } from './worker-process.js';

const TRUST_PRELOAD = fileURLToPath(new URL('../../packages/daemon/bench/emulator-trust.mjs', import.meta.url));
const EXIT_WITH_PARENT = fileURLToPath(new URL('../exit-with-parent.mjs', import.meta.url));
const LIVE_HEAP_PRELOAD = fileURLToPath(new URL('../../packages/daemon/bench/live-heap.mjs', import.meta.url));
const BENCH_CONSUMER = fileURLToPath(new URL('./bench-consumer.ts', import.meta.url));
/** Contacts of each account that take turns sending (a phone's Signal session is used by one send at a time). */
const SENDERS_PER_SESSION = 5;
/** Every fifth message is a command the worker answers. */
const COMMAND_EVERY = 5;
/** Sessions linked at once after the first (what an operator's script would do). */
const LINK_CONCURRENCY = 5;

/** Options of {@link runRealSessionsBench}. */
export interface RealBenchOptions {
  /** Sessions (real Baileys sockets in one daemon), 1..100. */
  readonly sessions: number;
  /** Idle phase, seconds (default 60). */
  readonly idleS?: number;
  /** Traffic phase, seconds (default 180). */
  readonly trafficS?: number;
  /** Sizes of each account (wa-sim's defaults: 300 contacts, 30 groups of 40, 1000 history messages). */
  readonly account?: RealisticAccountOptions;
  /** Progress lines (default: none). */
  readonly say?: (line: string) => void;
  /** RSS is sampled this often during traffic, ms (default 5000). */
  readonly sampleEveryMs?: number;
  /**
   * A directory for the daemon's CPU profile (`node --cpu-prof`) of its life from the first
   * session to the restart (default: none): where the CPU per message goes.
   */
  readonly cpuProfDir?: string;
  /**
   * After each phase's figures, a full GC in the daemon (preload `bench/live-heap.mjs`) and the
   * heap used after it: what the sessions hold rather than what the heap has not collected yet
   * (default off: each GC changes what the next phase starts from, and stalls the daemon).
   */
  readonly liveHeap?: boolean;
}

/** One row of the phase table. */
export interface PhaseRow {
  readonly phase: string;
  readonly seconds: number;
  readonly rssMb: number;
  readonly cpuPct: number;
  /** V8 heap used at the end of the phase (the daemon's /metrics), MB, when it exposes it. */
  readonly heapMb?: number;
  /** V8 heap used after a full GC at the end of the phase, MB (with {@link RealBenchOptions.liveHeap}). */
  readonly liveHeapMb?: number;
  /** V8 heap total (what V8 has committed: used plus free space in its pages) at the end of the phase, MB. */
  readonly heapTotalMb?: number;
  readonly note: string;
}

/** What {@link runRealSessionsBench} measured. */
export interface RealBenchResult {
  readonly sessions: number;
  /** RSS of the daemon with no session, MB. */
  readonly baseMb: number;
  /** RSS with one linked session, MB. */
  readonly oneMb: number;
  /** RSS with every session linked (after settling), MB. */
  readonly totalMb: number;
  /** (total − one) / (N − 1), MB; 0 for N = 1. */
  readonly perExtraMb: number;
  /** Daemon CPU over the idle phase, % of one core. */
  readonly idleCpuPct: number;
  /** From the restarted daemon's spawn to every session CONNECTED, seconds. */
  readonly reconnectAllS: number;
  /** RSS growth over V's window (from {@link RealBenchResult.growthFromS} to the end of traffic), %. */
  readonly growthPct: number;
  /**
   * Where V's window opens, seconds into the traffic: five minutes in when the traffic lasts
   * over six (issue #16's definition: what fills in the first minutes, the retry manager's
   * 5-minute cache of sent replies among them, is not growth), else the end of the first minute
   * (a third of the traffic when it is shorter than 3 min).
   */
  readonly growthFromS: number;
  /** p99 of phone send → bench consumer has the journal entry, ms. */
  readonly p99Ms: number;
  readonly p50Ms: number;
  /** p99 of phone send → the daemon journaled it (the entry's `ts`): emulator, WebSocket, Baileys, journal. */
  readonly p99ToJournalMs: number;
  /** p99 of journaled → the bench consumer has it: the bridge. */
  readonly p99JournalToConsumerMs: number;
  /** Daemon CPU time from the traffic's start until it was delivered (or 60 s after its end), per message delivered, ms. */
  readonly cpuMsPerMessage: number;
  /** {@link cpuMsPerMessage} by thread, and the main thread's GC pauses (when the daemon reports them). */
  readonly cpuSplit?: CpuSplit;
  /** Bytes the daemon wrote to storage from the traffic's start to a WAL checkpoint after it was delivered, per message delivered, KB. */
  readonly kbWrittenPerMessage: number;
  readonly messages: number;
  readonly commands: number;
  readonly answered: number;
  /** Messages the bench consumer got (of `messages`). */
  readonly delivered: number;
  readonly sendErrors: number;
  readonly phases: readonly PhaseRow[];
  /** RSS during traffic: [minutes since traffic start, MB]. */
  readonly trafficRss: ReadonlyArray<readonly [number, number]>;
  /** Slope of RSS over the last two thirds of traffic, MB per minute. */
  readonly lateSlopeMbPerMin: number;
  /** V8 heap used and external memory at the end of traffic (the daemon's /metrics), MB, when it exposes them. */
  readonly heap?: HeapFigures;
  /**
   * Where V's growth went: RSS and the V8 heap at the two ends of V's window, MB, when the
   * daemon exposes its heap.
   */
  readonly growth?: { readonly from: MemoryFigures; readonly to: MemoryFigures };
  readonly loadBefore: string;
  readonly loadAfter: string;
}

/** The daemon's V8 heap as its `/metrics` reports it, MB. */
export interface HeapFigures {
  readonly usedMb: number;
  readonly totalMb: number;
  readonly externalMb: number;
  /** What V8 committed for the young generation (its semi-spaces) and for the old space, parts of `totalMb`. */
  readonly newSpaceMb: number;
  readonly oldSpaceMb: number;
}

/** GC pauses of the daemon's main thread so far: their total (scavenges, and full GCs with their incremental steps and weak callbacks), ms, and the scavenges and full GCs counted. */
export interface GcTotals {
  readonly pauseMs: number;
  readonly scavenges: number;
  readonly fulls: number;
}

/** Where C went: the daemon's CPU from the traffic's start until it was delivered, per message delivered. */
export interface CpuSplit {
  /** On the main thread (the event loop: Baileys, libsignal, the journal, the bridge), ms. */
  readonly mainMs: number;
  /** Of that, GC pauses (scavenges and full GCs), ms. */
  readonly gcPauseMs: number;
  /** Scavenges and full GCs in the window (not per message). */
  readonly scavenges: number;
  readonly fulls: number;
  /** On the other threads (V8's GC and compiler helpers, the WAL checkpointer, libuv's pool), ms. */
  readonly otherThreadsMs: number;
}

/** The line saying where C went (empty when the daemon did not report its GC pauses). */
export function cpuSplitLine(r: RealBenchResult): string {
  if (!r.cpuSplit) return '';
  const { mainMs, gcPauseMs, scavenges, fulls, otherThreadsMs } = r.cpuSplit;
  return (
    `daemon CPU per message: ${mainMs.toFixed(2)} ms on the main thread (of which GC pauses ${gcPauseMs.toFixed(2)} ms: ${scavenges} scavenges and ${fulls} full GCs in the window) ` +
    `+ ${otherThreadsMs.toFixed(2)} ms on other threads (V8's GC and compiler helpers, the WAL checkpointer, libuv)`
  );
}

/** RSS and the V8 heap at one moment, MB. */
export interface MemoryFigures extends HeapFigures {
  readonly rssMb: number;
}

/** See {@link RealBenchResult.growthFromS}. */
export const growthFromS = (trafficS: number): number => (trafficS > 360 ? 300 : Math.min(60, trafficS / 3));

/** RSS against the V8 heap at the two ends of V's window, one line (empty when the heap is unknown). */
export function growthLine(r: RealBenchResult): string {
  if (!r.growth) return '';
  const { from, to } = r.growth;
  const delta = (pick: (m: MemoryFigures) => number) => `${pick(from).toFixed(0)} → ${pick(to).toFixed(0)} (${pick(to) - pick(from) >= 0 ? '+' : ''}${(pick(to) - pick(from)).toFixed(0)})`;
  return `V's window (${r.growthFromS} s into the traffic → its end), MB: RSS ${delta((m) => m.rssMb)}, V8 heap total ${delta((m) => m.totalMb)} (new space ${delta((m) => m.newSpaceMb)}, old space ${delta((m) => m.oldSpaceMb)}), used ${delta((m) => m.usedMb)}, external ${delta((m) => m.externalMb)}`;
}

/** The summary line the issue asks for. */
export function summaryLine(r: RealBenchResult): string {
  return (
    `sessions: ${r.sessions} real, RSS ${r.totalMb.toFixed(0)} MB total, ${r.perExtraMb.toFixed(1)} MB per extra session, base ${r.baseMb.toFixed(0)} MB, ` +
    `idle CPU ${r.idleCpuPct.toFixed(1)}%, reconnect all ${r.reconnectAllS.toFixed(1)} s, RSS growth under traffic ${r.growthPct.toFixed(1)}%, ` +
    `p99 event latency ${r.p99Ms.toFixed(0)} ms, ${r.cpuMsPerMessage.toFixed(2)} ms CPU and ${r.kbWrittenPerMessage.toFixed(1)} KB written per message`
  );
}

/** The phase table, markdown. */
export function phaseTable(r: RealBenchResult): string {
  const live = r.phases.some((row) => row.liveHeapMb !== undefined);
  const lines = [
    `| phase | s | daemon RSS (MB) | V8 heap used (MB) | V8 heap total (MB) |${live ? ' used after a full GC (MB) |' : ''} daemon CPU (% of a core) | note |`,
    `| --- | ---: | ---: | ---: | ---: |${live ? ' ---: |' : ''} ---: | --- |`,
  ];
  for (const row of r.phases) {
    const after = live ? ` ${row.liveHeapMb?.toFixed(1) ?? '–'} |` : '';
    lines.push(`| ${row.phase} | ${row.seconds.toFixed(1)} | ${row.rssMb.toFixed(1)} | ${row.heapMb?.toFixed(1) ?? '–'} | ${row.heapTotalMb?.toFixed(1) ?? '–'} |${after} ${row.cpuPct.toFixed(1)} | ${row.note} |`);
  }
  return lines.join('\n');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

interface DaemonHandle {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Epoch ms of the spawn. */
  readonly spawnedAt: number;
  tail(): string;
}

/** A dashboard connection that follows every session's status. */
interface Dashboard {
  readonly statuses: Map<string, Session['status']>;
  command<T>(name: string, args: unknown): Promise<T>;
  onQr(listener: (sessionId: string, qr: string) => void): void;
  close(): void;
}

function connectDashboard(bridgeUrl: string, token: string): Promise<Dashboard> {
  const socket: Socket = io(`${bridgeUrl}/dashboard`, { auth: { token }, transports: ['websocket'], reconnection: false });
  const statuses = new Map<string, Session['status']>();
  const qrListeners: Array<(sessionId: string, qr: string) => void> = [];
  socket.on('session:listed', (payload: { sessions: Session[] }) => {
    for (const session of payload.sessions) statuses.set(session.id, session.status);
  });
  socket.on('session:changed', (session: Session) => void statuses.set(session.id, session.status));
  socket.on('session:qr', (payload: { sessionId: string; qr: string }) => {
    for (const listener of qrListeners) listener(payload.sessionId, payload.qr);
  });
  const dashboard: Dashboard = {
    statuses,
    async command<T>(name: string, args: unknown): Promise<T> {
      const result = (await socket.timeout(60_000).emitWithAck(name, args)) as { ok: boolean; result?: T; error?: { code: string; message: string } };
      if (!result.ok) throw new Error(`${name} failed: ${result.error?.code ?? '?'} ${result.error?.message ?? ''}`);
      return result.result as T;
    },
    onQr: (listener) => void qrListeners.push(listener),
    close: () => void socket.close(),
  };
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(dashboard));
    socket.once('connect_error', reject);
  });
}

/**
 * Starts the bench consumer (bench-consumer.ts) in its own process and collects its arrivals
 * by message id. Resolves once it is connected.
 */
async function startConsumer(bridgeUrl: string, token: string, arrivals: Map<string, { at: number; journaledAt: number }>): Promise<ChildProcess> {
  let ready = false;
  const child = spawnJsonLines<{ ready?: true; arrivals?: Array<[string, number, number]> }>(
    BENCH_CONSUMER,
    { BRIDGE_URL: bridgeUrl, STICKERBOT_TOKEN: token },
    (line) => {
      ready ||= line.ready === true;
      for (const [id, at, journaledAt] of line.arrivals ?? []) arrivals.set(id, { at, journaledAt });
    },
    'inherit',
    [EXIT_WITH_PARENT],
  );
  try {
    await until(() => {
      if (child.exitCode !== null) throw new Error(`the bench consumer exited (${child.exitCode})`);
      return ready;
    }, 'the bench consumer to connect', 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return child;
}

/** Runs the whole benchmark; throws (after cleaning up) when a phase cannot complete. */
export async function runRealSessionsBench(options: RealBenchOptions): Promise<RealBenchResult> {
  const n = options.sessions;
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new Error(`--real takes 1..100 sessions, got ${n}`);
  const idleS = options.idleS ?? 60;
  const trafficS = options.trafficS ?? 180;
  const sampleEveryMs = options.sampleEveryMs ?? 5000;
  const say = options.say ?? (() => undefined);
  const loadBefore = loadAverage();
  const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-bench-sessions-'));
  const output: string[] = [];
  const phases: PhaseRow[] = [];
  let sim: Sim | undefined;
  let daemon: DaemonHandle | undefined;
  let dashboard: Dashboard | undefined;
  let consumer: ChildProcess | undefined;
  let worker: WorkerProcess | undefined;
  let profiled = false;

  try {
    sim = await startSim({ transcript: false, receiptDelayMs: 150 });
    const caFile = join(dataDir, 'wa-sim-ca.pem');
    writeFileSync(caFile, sim.media.ca);
    /** Where the daemon's live-heap preload answers (with `liveHeap`). */
    const liveHeapFile = join(dataDir, 'live-heap.json');
    const port = await freePort();
    const bridgeUrl = `http://127.0.0.1:${port}`;
    const wsUrl = sim.url;
    const noiseRoot = sim.noiseRootPublicKey.toString('base64');

    /**
     * `trust`: with the preload that makes Baileys trust the emulator (it imports Baileys, about
     * 60 MB, which a daemon with no session never loads): every phase but the base.
     */
    const startDaemon = async (trust = true): Promise<DaemonHandle> => {
      const spawnedAt = Date.now();
      // exit-with-parent: a benchmark stopped with Ctrl-C or killed leaves no daemon holding 100 sessions.
      const preloads = [EXIT_WITH_PARENT, ...(trust ? [TRUST_PRELOAD] : []), ...(options.liveHeap ? [LIVE_HEAP_PRELOAD] : [])].flatMap((file) => ['--import', pathToFileURL(file).href]);
      const profile = trust && options.cpuProfDir !== undefined && !profiled ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : [];
      profiled ||= profile.length > 0;
      const child = spawn(process.execPath, [...preloads, ...profile, join(repoRoot, 'scripts/run.mjs'), 'daemon'], {
        cwd: repoRoot,
        env: {
          ...baseEnv(),
          STICKERBOT_DATA_DIR: dataDir,
          STICKERBOT_PORT: String(port),
          STICKERBOT_SESSIONS: '',
          STICKERBOT_WA_URL: wsUrl,
          WA_SIM_TRUST_KEY: '1',
          WA_SIM_NOISE_ROOT: noiseRoot,
          // Media uploads and downloads trust the emulator's per-run CA.
          NODE_EXTRA_CA_CERTS: caFile,
          LOG_LEVEL: 'info',
          ...(options.liveHeap ? { STICKERBOT_BENCH_LIVE_HEAP_FILE: liveHeapFile } : {}),
          // A comparison of V8 flags against the daemon's defaults (scripts/run.mjs applies them).
          ...(process.env.STICKERBOT_DAEMON_V8_FLAGS === undefined ? {} : { STICKERBOT_DAEMON_V8_FLAGS: process.env.STICKERBOT_DAEMON_V8_FLAGS }),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let listening = false;
      for (const stream of [child.stdout, child.stderr]) {
        // The daemon's log goes to a pipe (as to pm2), read and dropped here: a file would count in its written bytes.
        stream?.setEncoding('utf8').on('data', (chunk: string) => {
          if (chunk.includes('"msg":"bridge listening"')) listening = true;
          for (const line of chunk.split('\n')) if (line.trim() !== '' && !line.includes('"level":30')) output.push(line.slice(0, 400));
          if (output.length > 200) output.splice(0, output.length - 200);
        });
      }
      await until(() => {
        if (child.exitCode !== null) throw new Error(`the daemon exited (${child.exitCode}):\n${output.slice(-20).join('\n')}`);
        return listening;
      }, 'the daemon to listen', 60_000);
      if (child.pid === undefined) throw new Error('the daemon has no pid');
      return { child, pid: child.pid, spawnedAt, tail: () => output.slice(-30).join('\n') };
    };

    /** Records a phase row with the daemon's V8 heap from `/metrics` (and after a full GC with `liveHeap`). */
    const addPhase = async (row: Omit<PhaseRow, 'heapMb' | 'heapTotalMb' | 'liveHeapMb'>) => {
      const heap = await readHeap(bridgeUrl, token);
      const liveHeapMb = options.liveHeap ? await collectGarbage() : undefined;
      phases.push({ ...row, ...(heap ? { heapMb: heap.usedMb, heapTotalMb: heap.totalMb } : {}), ...(liveHeapMb === undefined ? {} : { liveHeapMb }) });
    };
    /** Asks the daemon's live-heap preload for a full GC; its heap used after it, MB. */
    const collectGarbage = async (): Promise<number> => {
      rmSync(liveHeapFile, { force: true });
      daemon!.child.kill('SIGUSR2');
      await until(() => existsSync(liveHeapFile), 'the daemon to collect its garbage', 120_000, 100);
      const { after } = JSON.parse(readFileSync(liveHeapFile, 'utf8')) as { after: NodeJS.MemoryUsage };
      return mb(after.heapUsed);
    };
    let token = '';
    /** Waits until the daemon's CPU over 2 s falls under 5% of a core (at most `maxMs`): background work after a link is done. */
    const settle = async (maxMs: number): Promise<ProcSample> => {
      const deadline = Date.now() + maxMs;
      let previous = sampleProcess(daemon!.pid);
      for (;;) {
        await sleep(2000);
        const now = sampleProcess(daemon!.pid);
        if (cpuPercent(previous, now) < 5 || Date.now() > deadline) return now;
        previous = now;
      }
    };

    // 1. The daemon with no session, as production runs it: without the trust preload, which
    // imports Baileys up front (no session, no Baileys). Then the same data directory again
    // with the preload for every session phase.
    say('starting the daemon with no session');
    daemon = await startDaemon(false);
    token = readFileSync(join(dataDir, 'token'), 'utf8').trim();
    dashboard = await connectDashboard(bridgeUrl, token);
    const base = await settle(15_000);
    await addPhase({ phase: 'base (no session)', seconds: (base.at - daemon.spawnedAt) / 1000, rssMb: mb(base.rssBytes), cpuPct: 0, note: 'after start, settled; no trust preload' });
    dashboard.close();
    await stopWithin(daemon.child, 30_000);
    daemon = await startDaemon();
    dashboard = await connectDashboard(bridgeUrl, token);

    // 2. Link sessions: each account provisioned, then the daemon's QR scanned by its phone.
    const ids = Array.from({ length: n }, (_, i) => `s${String(i + 1).padStart(3, '0')}`);
    const botOf = new Map(ids.map((id, i) => [id, `49152${String(i + 1).padStart(8, '0')}`]));
    const accounts = new Map<string, RealisticAccount>();
    const scanned = new Set<string>();
    const currentSim = sim;
    dashboard.onQr((sessionId, qr) => {
      const phone = botOf.get(sessionId);
      if (!phone || scanned.has(sessionId)) return;
      scanned.add(sessionId);
      currentSim.scanQr(qr, { phone }).catch((err: unknown) => {
        // A QR that rotated before the scan: the next one is scanned.
        scanned.delete(sessionId);
        output.push(`scan of ${sessionId} failed: ${String(err)}`);
      });
    });
    const link = async (id: string) => {
      const phone = botOf.get(id) ?? '';
      accounts.set(id, await currentSim.provisionAccount(phone, options.account));
      await dashboard!.command('session:create', { sessionId: id });
      const answer = await dashboard!.command<{ qr?: { qr: string } }>('session:subscribe', { sessionId: id });
      if (answer.qr && !scanned.has(id)) {
        scanned.add(id);
        await currentSim.scanQr(answer.qr.qr, { phone }).catch(() => scanned.delete(id));
      }
      await until(() => dashboard!.statuses.get(id) === 'CONNECTED', `session ${id} to link and connect`, 120_000, 50);
    };
    say('linking the first session');
    const linkStarted = Date.now();
    await link(ids[0] ?? 's001');
    const one = await settle(30_000);
    await addPhase({ phase: 'one session linked', seconds: (one.at - linkStarted) / 1000, rssMb: mb(one.rssBytes), cpuPct: cpuPercent(base, one), note: 'link, history and app-state sync, settled' });

    say(`linking ${n - 1} more sessions, ${LINK_CONCURRENCY} at a time`);
    const restStarted = Date.now();
    const rest = ids.slice(1);
    const beforeRest = sampleProcess(daemon.pid);
    await Promise.all(
      Array.from({ length: LINK_CONCURRENCY }, async () => {
        for (let id = rest.shift(); id !== undefined; id = rest.shift()) await link(id);
      }),
    );
    const all = await settle(60_000);
    await addPhase({ phase: `${n} sessions linked`, seconds: (all.at - restStarted) / 1000, rssMb: mb(all.rssBytes), cpuPct: cpuPercent(beforeRest, all), note: 'settled' });

    // 3. The worker and the bench's consumer; the contacts' first messages; idle.
    // The dashboard leaves the sessions' rooms: subscribed, it gets a summary of every message
    // (a Socket.IO packet per message that no one watches during a real traffic hour). The
    // restart subscribes again.
    for (const id of ids) await dashboard.command('session:unsubscribe', { sessionId: id });
    const arrivals = new Map<string, { at: number; journaledAt: number }>();
    // The consumer's start (a TypeScript child) overlaps the worker's.
    const consumerStarting = startConsumer(bridgeUrl, token, arrivals);
    worker = spawnWorker({ STICKERBOT_BRIDGE_URL: bridgeUrl, STICKERBOT_TOKEN: token, STICKERBOT_DATA_DIR: join(dataDir, 'worker'), LOG_LEVEL: 'info' });
    consumer = await consumerStarting;
    await worker.waitForLog('connected to the daemon', { timeoutMs: 60_000 });

    // Each sending contact writes once before the measured phases: a contact of a real number
    // has a Signal session with it already, and the emulator's first message of a pair (X3DH,
    // pure-JS signature checks) would otherwise load this process during the traffic.
    const senders = new Map<string, ContactPhone[]>(ids.map((id) => [id, (accounts.get(id)?.contacts ?? []).slice(0, SENDERS_PER_SESSION).map((pn) => currentSim.phone(pn))]));
    const warmStarted = Date.now();
    const beforeWarm = sampleProcess(daemon.pid);
    const pairs = ids.flatMap((id) => (senders.get(id) ?? []).map((phone) => ({ phone, to: botOf.get(id) ?? '' })));
    const warmCount = pairs.length;
    await Promise.all(
      Array.from({ length: LINK_CONCURRENCY }, async () => {
        for (let pair = pairs.shift(); pair !== undefined; pair = pairs.shift()) await pair.phone.sendText('hi', { to: pair.to });
      }),
    );
    const warm = await settle(60_000);
    await addPhase({ phase: 'contacts write once', seconds: (warm.at - warmStarted) / 1000, rssMb: mb(warm.rssBytes), cpuPct: cpuPercent(beforeWarm, warm), note: `${warmCount} first messages (Signal sessions), settled` });

    say(`idle ${idleS} s`);
    const idleFrom = sampleProcess(daemon.pid);
    await sleep(idleS * 1000);
    const idleTo = sampleProcess(daemon.pid);
    const idleCpuPct = cpuPercent(idleFrom, idleTo);
    await addPhase({ phase: 'idle', seconds: idleS, rssMb: mb(idleTo.rssBytes), cpuPct: idleCpuPct, note: 'worker connected' });

    // 4. Traffic: each session gets one message a second from one of its contacts, every fifth a command.
    say(`traffic ${trafficS} s: ${n} messages/s`);
    const sentAt = new Map<string, number>();
    const commands = new Map<string, ContactPhone>();
    let sendErrors = 0;
    const sends: Promise<void>[] = [];
    const trafficRss: Array<readonly [number, number]> = [];
    const gcFrom = await readGcTotals(bridgeUrl, token);
    const trafficFrom = sampleProcess(daemon.pid);
    const started = trafficFrom.at;
    // The other processes' share: this one (the emulator and every phone) and the worker.
    const harnessFrom = process.cpuUsage();
    // How long work in this process (the emulator, the phones) kept a ready callback waiting: what
    // the harness itself can add to a message's latency.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const workerPid = worker.child.pid ?? 0;
    const workerFrom = sampleProcess(workerPid);
    const consumerPid = consumer.pid ?? 0;
    const consumerFrom = sampleProcess(consumerPid);
    const sampler = setInterval(() => {
      const sample = sampleProcess(daemon!.pid);
      trafficRss.push([(sample.at - started) / 60_000, mb(sample.rssBytes)]);
    }, sampleEveryMs);
    const windowFromS = growthFromS(trafficS);
    let windowFrom: ProcSample | undefined;
    let firstHeap: Promise<HeapFigures | undefined> | undefined;
    for (let second = 0; second < trafficS; second++) {
      for (const [index, id] of ids.entries()) {
        await sleep(started + second * 1000 + (index * 1000) / n - Date.now());
        const phones = senders.get(id) ?? [];
        const phone = phones[second % phones.length];
        if (!phone) continue;
        const isCommand = (second + index) % COMMAND_EVERY === COMMAND_EVERY - 1;
        const at = Date.now();
        sends.push(
          phone.sendText(isCommand ? '!ping' : `hello ${second} from ${phone.pn}`, { to: botOf.get(id) ?? '' }).then(
            (sent) => {
              sentAt.set(sent.id, at);
              if (isCommand) commands.set(sent.id, phone);
            },
            (err: unknown) => {
              sendErrors += 1;
              output.push(`send failed: ${String(err)}`);
            },
          ),
        );
      }
      if (!windowFrom && second + 1 >= windowFromS) {
        windowFrom = sampleProcess(daemon.pid);
        // Not awaited: the sends go on while the daemon answers.
        firstHeap = readHeap(bridgeUrl, token);
      }
    }
    await Promise.all(sends);
    const trafficTo = sampleProcess(daemon.pid);
    const harness = process.cpuUsage(harnessFrom);
    loopDelay.disable();
    const harnessCpuPct = ((harness.user + harness.system) / 1000 / (trafficTo.at - started)) * 100;
    const workerCpuPct = cpuPercent(workerFrom, sampleProcess(workerPid));
    const consumerCpuPct = cpuPercent(consumerFrom, sampleProcess(consumerPid));
    clearInterval(sampler);
    trafficRss.push([(trafficTo.at - started) / 60_000, mb(trafficTo.rssBytes)]);
    const messages = sentAt.size;
    const heap = await readHeap(bridgeUrl, token);
    await addPhase({
      phase: 'traffic',
      seconds: (trafficTo.at - started) / 1000,
      rssMb: mb(trafficTo.rssBytes),
      cpuPct: cpuPercent(trafficFrom, trafficTo),
      note: `${messages} messages, ${commands.size} commands, ${mb(trafficTo.writeBytes - trafficFrom.writeBytes)} MB written; CPU of the emulator and phones ${harnessCpuPct.toFixed(0)}% (event-loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms), of the bench consumer ${consumerCpuPct.toFixed(0)}%, of the worker ${workerCpuPct.toFixed(0)}%`,
    });

    // Every command answered (the bot quotes it), every message journaled and delivered.
    const answered = () => {
      let count = 0;
      for (const [id, phone] of commands) if (phone.received.some((received) => quotedIdOf(received.message) === id)) count += 1;
      return count;
    };
    await until(() => answered() === commands.size && [...sentAt.keys()].every((id) => arrivals.has(id)), 'every command answered and every message delivered', 60_000, 200).catch(
      () => undefined,
    );
    // CPU and bytes per message count what the daemon did until the traffic was delivered (a
    // daemon behind at the traffic's end still owes the rest), divided by the messages delivered.
    const drained = sampleProcess(daemon.pid);
    const gcTo = await readGcTotals(bridgeUrl, token);
    const handled = [...sentAt.keys()].filter((id) => arrivals.has(id)).length;
    const timed = [...sentAt].flatMap(([id, at]) => {
      const arrived = arrivals.get(id);
      return arrived === undefined ? [] : [{ total: arrived.at - at, toJournal: arrived.journaledAt - at, toConsumer: arrived.at - arrived.journaledAt }];
    });
    const sorted = (pick: (t: (typeof timed)[number]) => number) => timed.map(pick).sort((a, b) => a - b);
    const latencies = sorted((t) => t.total);
    const answeredCount = answered();
    // Bytes written: what the traffic put in the WAL and, once the background checkpointer
    // ran after it (writes paused for its idle time after the last positions were written),
    // what the checkpoint copied into the database (each changed page once, so a window that
    // ended with the traffic would miss them).
    await sleep(drained.at + DEFAULT_POSITION_DELAY_MS + DEFAULT_CHECKPOINT_IDLE_MS + 2000 - Date.now());
    const written = sampleProcess(daemon.pid).writeBytes - trafficFrom.writeBytes;

    // 5. Restart: SIGTERM, then the time from the new process's spawn until every session is CONNECTED.
    // For a CPU profile: the traffic's window on the clock of the daemon's life.
    say(`restarting the daemon (traffic was ${((started - daemon.spawnedAt) / 1000).toFixed(1)}–${((trafficTo.at - daemon.spawnedAt) / 1000).toFixed(1)} s after its spawn)`);
    dashboard.close();
    await stopWithin(daemon.child, 30_000);
    daemon = await startDaemon();
    const listeningAt = Date.now();
    dashboard = await connectDashboard(bridgeUrl, token);
    for (const id of ids) {
      // The answer is the state at subscription (the connect-time list may be older); events follow it.
      const answer = await dashboard.command<{ session: Session }>('session:subscribe', { sessionId: id });
      dashboard.statuses.set(id, answer.session.status);
    }
    const reconnectTimeoutMs = Math.max(120_000, n * 3000);
    // A change between a subscription's answer and its room join can be missed (seen under
    // load): every second the sessions not connected yet are asked again.
    const currentDashboard = dashboard;
    const recheck = setInterval(() => {
      for (const id of ids) {
        if (currentDashboard.statuses.get(id) === 'CONNECTED') continue;
        currentDashboard.command<{ session: Session }>('session:subscribe', { sessionId: id }).then(
          (answer) => void (currentDashboard.statuses.get(id) !== 'CONNECTED' && currentDashboard.statuses.set(id, answer.session.status)),
          () => undefined,
        );
      }
    }, 1000);
    await until(() => ids.every((id) => dashboard!.statuses.get(id) === 'CONNECTED'), 'every session to reconnect after the restart', reconnectTimeoutMs, 20).finally(() =>
      clearInterval(recheck),
    );
    const reconnectedAt = Date.now();
    const reconnectAllS = (reconnectedAt - daemon.spawnedAt) / 1000;
    const afterRestart = sampleProcess(daemon.pid);
    await addPhase({
      phase: 'restart',
      seconds: reconnectAllS,
      rssMb: mb(afterRestart.rssBytes),
      cpuPct: cpuPercent({ at: daemon.spawnedAt, rssBytes: 0, cpuMs: 0, mainThreadCpuMs: 0, writeBytes: 0 }, afterRestart),
      note: `listening after ${((listeningAt - daemon.spawnedAt) / 1000).toFixed(1)} s, all ${n} CONNECTED after ${reconnectAllS.toFixed(1)} s`,
    });

    const firstRss = (windowFrom ?? trafficFrom).rssBytes;
    const heapFrom = await firstHeap;
    const cpuMsPerMessage = handled > 0 ? (drained.cpuMs - trafficFrom.cpuMs) / handled : 0;
    const mainThreadMsPerMessage = handled > 0 ? (drained.mainThreadCpuMs - trafficFrom.mainThreadCpuMs) / handled : 0;
    const lateFrom = (trafficTo.at - started) / 60_000 / 3;
    return {
      sessions: n,
      baseMb: mb(base.rssBytes),
      oneMb: mb(one.rssBytes),
      totalMb: mb(all.rssBytes),
      perExtraMb: n > 1 ? mb((all.rssBytes - one.rssBytes) / (n - 1)) : 0,
      idleCpuPct,
      reconnectAllS,
      growthPct: ((trafficTo.rssBytes - firstRss) / firstRss) * 100,
      growthFromS: windowFromS,
      p99Ms: percentile(latencies, 0.99),
      p50Ms: percentile(latencies, 0.5),
      p99ToJournalMs: percentile(sorted((t) => t.toJournal), 0.99),
      p99JournalToConsumerMs: percentile(sorted((t) => t.toConsumer), 0.99),
      cpuMsPerMessage,
      kbWrittenPerMessage: handled > 0 ? written / handled / 1024 : 0,
      ...(gcFrom && gcTo && handled > 0
        ? {
            cpuSplit: {
              mainMs: mainThreadMsPerMessage,
              gcPauseMs: (gcTo.pauseMs - gcFrom.pauseMs) / handled,
              scavenges: gcTo.scavenges - gcFrom.scavenges,
              fulls: gcTo.fulls - gcFrom.fulls,
              otherThreadsMs: cpuMsPerMessage - mainThreadMsPerMessage,
            },
          }
        : {}),
      messages,
      commands: commands.size,
      answered: answeredCount,
      delivered: latencies.length,
      sendErrors,
      phases,
      trafficRss,
      lateSlopeMbPerMin: slope(trafficRss.filter(([minute]) => minute >= lateFrom)),
      ...(heap ? { heap } : {}),
      ...(heap && heapFrom ? { growth: { from: { rssMb: mb(firstRss), ...heapFrom }, to: { rssMb: mb(trafficTo.rssBytes), ...heap } } } : {}),
      loadBefore,
      loadAfter: loadAverage(),
    };
  } catch (err) {
    throw new Error(`bench:sessions --real: ${err instanceof Error ? err.message : String(err)}\n${output.slice(-30).join('\n')}`, { cause: err });
  } finally {
    if (consumer) await stopWithin(consumer, 5000);
    dashboard?.close();
    if (worker) {
      worker.kill('SIGTERM');
      await Promise.race([worker.exited, sleep(10_000)]);
      await worker[Symbol.asyncDispose]();
    }
    if (daemon) {
      await stopWithin(daemon.child, 15_000);
    }
    await sim?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The daemon's `/metrics` text (prom-client's process metrics among them), or undefined when it does not answer. */
async function readMetrics(bridgeUrl: string, token: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${bridgeUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

/** The value of metric `name` (with label `label`, e.g. `kind="minor"`, when given) in a `/metrics` text, NaN when absent. */
function metricValue(text: string, name: string, label?: string): number {
  const labels = label === undefined ? '(?:\\{[^}]*\\})?' : `\\{[^}]*${label}[^}]*\\}`;
  return Number(new RegExp(`^${name}${labels} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
}

/** V8 heap used, total and external memory from the daemon's `/metrics`, MB. */
async function readHeap(bridgeUrl: string, token: string): Promise<HeapFigures | undefined> {
  const text = await readMetrics(bridgeUrl, token);
  if (text === undefined) return undefined;
  const used = metricValue(text, 'nodejs_heap_size_used_bytes');
  const orZero = (value: number) => (Number.isNaN(value) ? 0 : mb(value));
  const space = (name: string) => orZero(metricValue(text, 'nodejs_heap_space_size_total_bytes', `space="${name}"`));
  return Number.isNaN(used)
    ? undefined
    : {
        usedMb: mb(used),
        totalMb: orZero(metricValue(text, 'nodejs_heap_size_total_bytes')),
        externalMb: orZero(metricValue(text, 'nodejs_external_memory_bytes')),
        newSpaceMb: space('new'),
        oldSpaceMb: space('old'),
      };
}

/** The daemon's GC pauses so far (prom-client's `nodejs_gc_duration_seconds` by kind), or undefined when it does not report them. */
async function readGcTotals(bridgeUrl: string, token: string): Promise<GcTotals | undefined> {
  const text = await readMetrics(bridgeUrl, token);
  if (text === undefined) return undefined;
  const sum = (kind: string) => metricValue(text, 'nodejs_gc_duration_seconds_sum', `kind="${kind}"`) * 1000;
  const count = (kind: string) => metricValue(text, 'nodejs_gc_duration_seconds_count', `kind="${kind}"`);
  const scavengeMs = sum('minor');
  if (Number.isNaN(scavengeMs)) return undefined;
  const orZero = (value: number) => (Number.isNaN(value) ? 0 : value);
  return { pauseMs: scavengeMs + orZero(sum('major')) + orZero(sum('incremental')) + orZero(sum('weakcb')), scavenges: orZero(count('minor')), fulls: orZero(count('major')) };
}
