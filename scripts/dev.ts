/**
 * `pnpm dev`: the development loop. Runs the daemon once and the worker in watch mode,
 * so editing worker, sticker or protocol code restarts only the worker while the WhatsApp
 * connection stays up. Output of both is prefixed by process, one line per log record
 * (scripts/support/dev-output.ts). Ctrl-C, SIGTERM, SIGHUP (the terminal closed), a closed
 * output pipe, a crash of this script and the end of the pnpm that started it all stop the
 * worker first, then the daemon, and wait for both. Should this script die without a word
 * (SIGKILL), every child notices on its own (scripts/exit-with-parent.mjs) and shuts down
 * gracefully.
 *
 * `pnpm dev --sim`: no WhatsApp account needed. Starts the loopback emulator, points the
 * daemon at it (fresh temp data folder, removed on exit), lets the emulator's phone scan
 * the QR, and turns the terminal into a chat: type `!help` and press Enter.
 *
 * `pnpm dev --cluster` (with or without `--sim`): a private Redis (scripts/dev-redis.ts),
 * two daemons on two ports with data folders and daemon ids of their own sharing the
 * sessions through `STICKERBOT_REDIS_URL`, and two workers of one group, one per daemon,
 * each in watch mode. With `--sim` there are two sessions on two numbers, one per daemon
 * once both run. Stopping goes workers, daemons, emulator, Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { watchLauncher } from './dev-launcher.js';
import { chatFromTerminal, scanQrCodes, startEmulator, type Emulator } from './dev-sim.js';
import { startDevRedis } from './support/dev-redis-process.js';
import { linePrefix, relayLines, type DevOutput } from './support/dev-output.js';
import { freePort } from './support/free-port.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const simMode = process.argv.includes('--sim');
const clusterMode = process.argv.includes('--cluster');
const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const TSX = ['--import', 'tsx', '--conditions=@stickerbot/source'];
const BOT_PHONE = '4915100000001';
// --cluster --sim: a second session on its own number, so that each daemon owns one.
const SECOND_BOT_PHONE = '4915100000003';
const CONTACT_PHONE = '4915200000002';

// Once the terminal or a pipe this script writes to is gone (EPIPE, EIO), it writes no more.
let outputOpen = true;
function write(text: string): void {
  if (outputOpen) process.stdout.write(text);
}

const output: DevOutput = { colour, write, nameWidth: clusterMode ? 7 : 6 };
const sayPrefix = linePrefix('dev', '33', colour, output.nameWidth);

function say(text: string): void {
  for (const line of text.split('\n')) write(`${sayPrefix}${line}\n`);
}

function relay(name: string, child: ChildProcess, tint: string): void {
  relayLines(name, tint, [child.stdout, child.stderr], output);
}

function exited(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}


// Workspace packages resolve to their TypeScript source, and every child leaves when its
// parent does (the watcher's children, the worker and its spare, inherit both).
const exitWithParent = pathToFileURL(join(root, 'scripts/exit-with-parent.mjs')).href;
const env: NodeJS.ProcessEnv = {
  ...process.env,
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --conditions=@stickerbot/source --import=${exitWithParent}`.trim(),
};
let simDataDir: string | undefined;
let emulator: Emulator | undefined;
// --cluster: the process that runs redis-server (scripts/dev-redis.ts).
let redis: ChildProcess | undefined;
// Filled once the emulator (in --sim mode) and Redis (--cluster) are up; stop() may run before that.
const daemons: ChildProcess[] = [];
const workers: ChildProcess[] = [];
let stopping: Promise<never> | undefined;
const cleanups: Array<() => void> = [];
let chatOpen = false;

/** True when `binary` is a file in one of PATH's folders. */
function onPath(binary: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, binary)));
}

/** Stops everything once; whatever asks again (a second Ctrl-C) waits for the same stop. */
function stop(code: number, why: string): Promise<never> {
  stopping ??= stopChildren(code, why);
  return stopping;
}

/** Signals the child's whole process group: the watcher's holds the worker. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** SIGTERM, then SIGKILL to its whole group after `budgetMs`; resolves once it has exited. */
async function stopChild(child: ChildProcess, budgetMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), budgetMs);
  await exited(child);
  clearTimeout(timer);
}

async function stopChildren(code: number, why: string): Promise<never> {
  try {
    say(`${why}; stopping: ${clusterMode ? 'the workers first, then the daemons, then Redis' : 'worker first, then the daemon'}`);
    for (const cleanup of cleanups) cleanup();
    // The workers finish or abandon their events before the daemons go; each gets its own
    // shutdown budget (worker: grace + 5 s; daemon: 12 s) before it is killed. Redis goes
    // last: a daemon hands its sessions over through it on the way out.
    const stages: Array<[readonly ChildProcess[], number]> = [
      [workers, 11_000],
      [daemons, 13_000],
      [emulator ? [emulator.child] : [], 5_000],
      [redis ? [redis] : [], 5_000],
    ];
    for (const [children, budgetMs] of stages) await Promise.all(children.map((child) => stopChild(child, budgetMs)));
    if (simDataDir) rmSync(simDataDir, { recursive: true, force: true });
  } finally {
    // Even if stopping went wrong: the 'exit' handler below still signals what is left.
    process.exit(code);
  }
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(0, signal));
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    outputOpen = false;
    void stop(0, `output closed (${err.code ?? err.message})`);
  });
}
const crashed = (err: unknown): void => {
  if (outputOpen) process.stderr.write(`dev: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  void stop(1, 'crashed');
};
process.on('uncaughtException', crashed);
process.on('unhandledRejection', crashed);
watchLauncher(() => void stop(0, 'the pnpm or shell that started this is gone'));
// Should this script exit any other way, its children are told at once; they would notice
// on their own a moment later.
process.once('exit', () => {
  for (const child of [...workers, ...daemons, emulator?.child, redis]) if (child) signalGroup(child, 'SIGTERM');
});

if (clusterMode && !onPath('redis-server')) {
  // Before anything started: nothing to stop.
  process.stderr.write('dev: pnpm dev --cluster runs a private Redis and needs redis-server on PATH: sudo apt-get install redis-server (Debian, Ubuntu)\n');
  process.exit(1);
}

if (simMode) simDataDir = mkdtempSync(join(tmpdir(), 'stickerbot-dev-sim-'));
// --cluster keeps its folders (Redis' AOF, each daemon's data) under the data folder, or in --sim's temporary one.
const clusterDir = simDataDir ?? join(resolve(root, process.env.STICKERBOT_DATA_DIR ?? 'data'), 'cluster');
const [started, redisUrl] = await Promise.all([
  simMode ? startEmulator(root, simDataDir ?? '', env) : undefined,
  clusterMode
    ? startDevRedis(root, join(clusterDir, 'redis'), env, (child) => {
        redis = child;
        relay('redis', child, '31');
        child.once('exit', (code) => {
          if (!stopping) void stop(1, `Redis exited (code ${code ?? 'signal'})`);
        });
      })
    : undefined,
]);
if (started) {
  emulator = started;
  relay('wa-sim', emulator.child, '33');
  say(`emulator on ${emulator.wsUrl} (admin ${emulator.adminUrl}); data in ${simDataDir}`);
  Object.assign(env, {
    STICKERBOT_DATA_DIR: simDataDir,
    STICKERBOT_SESSIONS: clusterMode ? 'default,second' : 'default',
    STICKERBOT_WA_URL: emulator.wsUrl,
    STICKERBOT_TOKEN: '',
    // The emulator's phone scans the QR (below): no QR drawn in the terminal.
    STICKERBOT_QR_TERMINAL: 'never',
    WA_SIM_CA_FILE: emulator.caFile,
  });
}

/** What daemon `index` (and its worker) run with: its own port, and in --cluster its own folder and id. */
async function daemonEnv(index: number): Promise<NodeJS.ProcessEnv> {
  if (!clusterMode && !simMode) return env;
  // The first daemon keeps STICKERBOT_PORT; the second (--cluster) takes a free one.
  const port = index === 0 && env.STICKERBOT_PORT ? env.STICKERBOT_PORT : String(await freePort());
  const own: NodeJS.ProcessEnv = { ...env, STICKERBOT_PORT: port, STICKERBOT_BRIDGE_URL: `http://127.0.0.1:${port}` };
  if (!clusterMode) return own;
  const name = `daemon${index + 1}`;
  return { ...own, STICKERBOT_DATA_DIR: join(clusterDir, name), STICKERBOT_DAEMON_ID: `dev-${name}`, STICKERBOT_REDIS_URL: redisUrl ?? '' };
}

const daemonCount = clusterMode ? 2 : 1;
const scanned = new Set<string>();
for (let index = 0; index < daemonCount; index += 1) {
  const daemonName = clusterMode ? `daemon${index + 1}` : 'daemon';
  const workerName = clusterMode ? `worker${index + 1}` : 'worker';
  const ownEnv = await daemonEnv(index);
  if (stopping) break;
  if (clusterMode) say(`${daemonName} (id ${ownEnv.STICKERBOT_DAEMON_ID}) on port ${ownEnv.STICKERBOT_PORT}, data in ${ownEnv.STICKERBOT_DATA_DIR}, Redis ${redisUrl}`);
  // Own process groups: only this script receives the terminal's Ctrl-C, and it stops the
  // children in order. The daemon's stderr stays the terminal, where it prints its QR.
  // The daemon as pm2 runs it (scripts/run.mjs), or against the emulator with its test agents.
  const daemon = spawn(process.execPath, simMode ? [...TSX, join(root, 'scripts/sim-daemon.ts')] : [join(root, 'scripts/run.mjs'), 'daemon'], {
    cwd: root,
    env: ownEnv,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    detached: true,
  });
  daemons.push(daemon);
  relay(daemonName, daemon, '36');
  daemon.once('exit', (code) => {
    if (!stopping) void stop(code === 0 ? 0 : 1, `${daemonName === 'daemon' ? 'the daemon' : daemonName} exited (code ${code ?? 'signal'})`);
  });

  let worker: ChildProcess | undefined;
  daemon.on('message', (message) => {
    if (message !== 'ready' || worker || stopping) return;
    // Rebuilds the worker on every saved change and restarts it, with a spare process that has
    // the dependencies loaded already (scripts/run.mjs): an edit is live in about 0.3 s.
    worker = spawn(process.execPath, [join(root, 'scripts/run.mjs'), 'worker', '--watch'], {
      cwd: root,
      env: ownEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    workers.push(worker);
    relay(workerName, worker, '35');
    worker.once('exit', (code) => {
      if (!stopping) void stop(1, `${workerName === 'worker' ? "the worker's" : `${workerName}'s`} watcher exited (code ${code ?? 'signal'})`);
    });
    say(
      clusterMode
        ? `${daemonName} ready; ${workerName} running in watch mode against it (group ${ownEnv.STICKERBOT_GROUP ?? 'bot'})`
        : 'daemon ready; worker running in watch mode: edit packages/worker, packages/sticker, packages/protocol or packages/runtime and only the worker restarts',
    );
    if (simMode && emulator && ownEnv.STICKERBOT_DATA_DIR) {
      const token = readFileSync(join(ownEnv.STICKERBOT_DATA_DIR, 'token'), 'utf8').trim();
      const dashboard = scanQrCodes({
        bridgeUrl: ownEnv.STICKERBOT_BRIDGE_URL ?? '',
        token,
        adminUrl: emulator.adminUrl,
        phones: clusterMode ? { default: BOT_PHONE, second: SECOND_BOT_PHONE } : { default: BOT_PHONE },
        say,
        scanned,
      });
      cleanups.push(() => dashboard.close());
      // One terminal chat, opened with the first daemon that is ready.
      if (!chatOpen) {
        chatOpen = true;
        cleanups.push(chatFromTerminal({ adminUrl: emulator.adminUrl, phone: CONTACT_PHONE, name: 'Alice', botPhone: BOT_PHONE, say }));
        say(`you are Alice (+${CONTACT_PHONE}), writing to the bot (+${BOT_PHONE}): type a message (try !help) and press Enter`);
      }
    }
  });
}
