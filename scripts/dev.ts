/**
 * `pnpm dev`: the development loop. Runs the daemon once and the worker under `tsx watch`,
 * so editing worker, sticker or protocol code restarts only the worker while the WhatsApp
 * connection stays up. Output of both is pretty-printed and prefixed by process. Ctrl-C
 * (or SIGTERM) stops the worker first, then the daemon, and waits for both.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { prettyFactory } from 'pino-pretty';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const pretty = prettyFactory({ colorize: colour, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' });
// Workspace packages resolve to their TypeScript source in development.
const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --conditions=@stickerbot/source`.trim() };

function relay(name: string, child: ChildProcess, tint: string): void {
  const prefix = colour ? `\x1b[${tint}m${name.padEnd(6)}\x1b[0m │ ` : `${name.padEnd(6)} │ `;
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      const text = line.startsWith('{') ? pretty(line).trimEnd() : line;
      for (const part of text.split('\n')) process.stdout.write(`${prefix}${part}\n`);
    });
  }
}

function exited(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

// Own process groups: only this script receives the terminal's Ctrl-C, and it stops the
// children in order (the worker finishes or abandons its event before the daemon goes).
const daemon = fork(fileURLToPath(new URL('../packages/daemon/src/main.ts', import.meta.url)), [], {
  cwd: root,
  env,
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  detached: true,
});
relay('daemon', daemon, '36');

let worker: ChildProcess | undefined;
let stopping = false;

daemon.on('message', (message) => {
  if (message !== 'ready' || worker || stopping) return;
  worker = spawn(process.execPath, [tsxCli, 'watch', '--clear-screen=false', 'packages/worker/src/main.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  relay('worker', worker, '35');
});

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await exited(worker);
    }
    if (daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await exited(daemon);
    }
  }
  process.exit(code);
}

daemon.once('exit', (code) => {
  if (stopping) return;
  process.stdout.write(`dev: the daemon exited (code ${code ?? 'signal'}); stopping the worker\n`);
  void stop(code === 0 ? 0 : 1);
});
process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));
