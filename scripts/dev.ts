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
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { watchLauncher } from './dev-launcher.js';
import { chatFromTerminal, scanQrCodes, startEmulator, type Emulator } from './dev-sim.js';
import { linePrefix, relayLines, type DevOutput } from './support/dev-output.js';
import { freePort } from './support/free-port.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const simMode = process.argv.includes('--sim');
const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const TSX = ['--import', 'tsx', '--conditions=@stickerbot/source'];
const BOT_PHONE = '4915100000001';
const CONTACT_PHONE = '4915200000002';

// Once the terminal or a pipe this script writes to is gone (EPIPE, EIO), it writes no more.
let outputOpen = true;
function write(text: string): void {
  if (outputOpen) process.stdout.write(text);
}

const output: DevOutput = { colour, write };
const sayPrefix = linePrefix('dev', '33', colour);

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
// Assigned once the emulator (in --sim mode) is up; stop() may run before that.
let daemon: ChildProcess | undefined = undefined;
let worker: ChildProcess | undefined;
let stopping: Promise<never> | undefined;
const cleanups: Array<() => void> = [];

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

async function stopChildren(code: number, why: string): Promise<never> {
  try {
    say(`${why}; stopping: worker first, then the daemon`);
    for (const cleanup of cleanups) cleanup();
    // The worker finishes or abandons its event before the daemon goes; each gets its own
    // shutdown budget (worker: grace + 5 s; daemon: 12 s) before it is killed.
    for (const [child, budgetMs] of [
      [worker, 11_000],
      [daemon, 13_000],
      [emulator?.child, 5_000],
    ] as const) {
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGTERM');
      const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), budgetMs);
      await exited(child);
      clearTimeout(timer);
    }
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
  for (const child of [worker, daemon, emulator?.child]) if (child) signalGroup(child, 'SIGTERM');
});

if (simMode) {
  simDataDir = mkdtempSync(join(tmpdir(), 'stickerbot-dev-sim-'));
  const port = env.STICKERBOT_PORT ?? String(await freePort());
  emulator = await startEmulator(root, simDataDir, env);
  relay('wa-sim', emulator.child, '33');
  say(`emulator on ${emulator.wsUrl} (admin ${emulator.adminUrl}); data in ${simDataDir}`);
  Object.assign(env, {
    STICKERBOT_DATA_DIR: simDataDir,
    STICKERBOT_PORT: port,
    STICKERBOT_BRIDGE_URL: `http://127.0.0.1:${port}`,
    STICKERBOT_SESSIONS: 'default',
    STICKERBOT_WA_URL: emulator.wsUrl,
    STICKERBOT_TOKEN: '',
    // The emulator's phone scans the QR (below): no QR drawn in the terminal.
    STICKERBOT_QR_TERMINAL: 'never',
    WA_SIM_CA_FILE: emulator.caFile,
  });
}

// Own process groups: only this script receives the terminal's Ctrl-C, and it stops the
// children in order. The daemon's stderr stays the terminal, where it prints its QR.
// The daemon as pm2 runs it (scripts/run.mjs), or against the emulator with its test agents.
daemon = spawn(process.execPath, simMode ? [...TSX, join(root, 'scripts/sim-daemon.ts')] : [join(root, 'scripts/run.mjs'), 'daemon'], {
  cwd: root,
  env,
  stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  detached: true,
});
relay('daemon', daemon, '36');
daemon.once('exit', (code) => {
  if (!stopping) void stop(code === 0 ? 0 : 1, `the daemon exited (code ${code ?? 'signal'})`);
});

daemon.on('message', (message) => {
  if (message !== 'ready' || worker || stopping) return;
  // Rebuilds the worker on every saved change and restarts it, with a spare process that has
  // the dependencies loaded already (scripts/run.mjs): an edit is live in about 0.3 s.
  worker = spawn(process.execPath, [join(root, 'scripts/run.mjs'), 'worker', '--watch'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  relay('worker', worker, '35');
  worker.once('exit', (code) => {
    if (!stopping) void stop(1, `the worker's watcher exited (code ${code ?? 'signal'})`);
  });
  say('daemon ready; worker running in watch mode: edit packages/worker, packages/sticker, packages/protocol or packages/runtime and only the worker restarts');
  if (simMode && emulator && env.STICKERBOT_DATA_DIR) {
    const token = readFileSync(join(env.STICKERBOT_DATA_DIR, 'token'), 'utf8').trim();
    const dashboard = scanQrCodes({
      bridgeUrl: env.STICKERBOT_BRIDGE_URL ?? '',
      token,
      adminUrl: emulator.adminUrl,
      sessions: ['default'],
      botPhone: BOT_PHONE,
      say,
    });
    cleanups.push(() => dashboard.close());
    cleanups.push(chatFromTerminal({ adminUrl: emulator.adminUrl, phone: CONTACT_PHONE, name: 'Alice', botPhone: BOT_PHONE, say }));
    say(`you are Alice (+${CONTACT_PHONE}), writing to the bot (+${BOT_PHONE}): type a message (try !help) and press Enter`);
  }
});
