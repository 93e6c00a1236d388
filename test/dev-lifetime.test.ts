/**
 * `pnpm dev --sim` ends whole, however it ends: Ctrl-C, a closed terminal, pnpm killed
 * (SIGTERM or SIGKILL), the dev script killed with SIGKILL, a crash of the dev script, its
 * output pipe closed. Each case starts the real thing (through pnpm where the case is about
 * pnpm), waits until the bot answers `!ping` in the terminal chat, records every process
 * of the tree from /proc, ends it, and then requires every recorded process to be gone.
 * All starts share one daemon port: each start after the first also proves that the one
 * before left nothing holding it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAlive, processTree, type ProcessInfo } from './support/process-tree.js';
import { exited, repoRoot, until } from './support/stack.js';

/** Start-up takes several seconds of CPU per process on a small machine; ending gets generous room. */
const START_TIMEOUT_MS = 150_000;
const END_TIMEOUT_MS = 20_000;

interface Dev {
  readonly child: ChildProcess;
  readonly output: string[];
  /** Every process of the tree once the bot has answered. */
  readonly tree: ProcessInfo[];
  readonly dataDir: string;
  /** Names a process of the tree by its command line. */
  find(pattern: RegExp): ProcessInfo;
}

let port = 0;
const started: Dev[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts `pnpm dev --sim` (or the dev script directly) in its own process group, as a
 * terminal runs a foreground job, and waits until the bot has answered `!ping`.
 */
async function startDev(options: { via: 'pnpm' | 'node'; nodeArgs?: string[] }): Promise<Dev> {
  const command = options.via === 'pnpm' ? 'pnpm' : process.execPath;
  const args = options.via === 'pnpm' ? ['dev', '--sim'] : ['--import', 'tsx', ...(options.nodeArgs ?? []), 'scripts/dev.ts', '--sim'];
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', STICKERBOT_PORT: String(port) },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8').on('data', (chunk: string) => output.push(...chunk.split('\n').filter((line) => line.trim() !== '')));
  }
  // The case that closes the output pipe does so on purpose; nothing else may.
  child.stdin?.on('error', () => undefined);
  const dev: Dev = {
    child,
    output,
    tree: [],
    dataDir: '',
    find(pattern) {
      const found = this.tree.find((info) => pattern.test(info.command));
      if (!found) throw new Error(`no process matching ${pattern} in:\n${this.tree.map((info) => `${info.pid} ${info.command}`).join('\n')}`);
      return found;
    },
  };
  started.push(dev);
  const seen = (pattern: RegExp) => output.some((line) => pattern.test(line));
  const failed = () => child.exitCode !== null || child.signalCode !== null;
  const describeFailure = () => `pnpm dev ended or hung on start (port ${port}):\n${output.slice(-40).join('\n')}`;
  await until(() => failed() || (seen(/connected to the daemon/) && seen(/connected to WhatsApp/)), 'the worker and the WhatsApp session', START_TIMEOUT_MS, 100);
  if (failed()) throw new Error(describeFailure());
  // The bot answering in the terminal chat is the whole loop working, on the shared port.
  const deadline = Date.now() + 60_000;
  while (!seen(/bot → Alice: pong/)) {
    if (failed() || Date.now() > deadline) throw new Error(describeFailure());
    child.stdin?.write('!ping\n');
    await until(() => failed() || seen(/bot → Alice: pong/), 'the answer to !ping', 10_000, 100).catch(() => undefined);
  }
  expect(seen(new RegExp(`127\\.0\\.0\\.1:${port}`))).toBe(true);
  Object.assign(dev, {
    tree: processTree(child.pid ?? 0),
    dataDir: /data in (\S+)/.exec(output.find((line) => line.includes('data in ')) ?? '')?.[1] ?? '',
  });
  return dev;
}

/** Every recorded process of the tree must be gone within END_TIMEOUT_MS. */
async function expectAllGone(dev: Dev): Promise<void> {
  // Whatever else runs (pnpm, its shell, esbuild services), these five must be in the tree.
  for (const role of [/scripts\/dev\.ts/, /wa-sim\/src\/main\.ts/, /scripts\/sim-daemon\.ts/, /tsx\/dist\/cli\.mjs watch/, /preflight\.cjs .*worker\/src\/main\.ts/]) {
    dev.find(role);
  }
  await until(() => dev.tree.every((info) => !isAlive(info)), 'every process of pnpm dev to end', END_TIMEOUT_MS, 200).catch(() => {
    const survivors = dev.tree.filter(isAlive).map((info) => `${info.pid} ${info.command}`);
    throw new Error(`still running ${END_TIMEOUT_MS} ms after the end of pnpm dev:\n${survivors.join('\n')}`);
  });
}

beforeAll(async () => {
  port = await freePort();
});

afterEach(async () => {
  // A failed case must not leave its processes to the next one (or to the machine).
  for (const dev of started.splice(0)) {
    for (const info of dev.tree) if (isAlive(info)) process.kill(info.pid, 'SIGKILL');
    if (dev.child.exitCode === null && dev.child.signalCode === null) dev.child.kill('SIGKILL');
    await exited(dev.child);
    if (dev.dataDir) rmSync(dev.dataDir, { recursive: true, force: true });
  }
}, 30_000);

describe('pnpm dev --sim leaves no process behind', () => {
  it('Ctrl-C in the terminal (SIGINT to pnpm, its shell and the dev script) ends every process', async () => {
    const dev = await startDev({ via: 'pnpm' });
    process.kill(-(dev.child.pid ?? 0), 'SIGINT');
    await expectAllGone(dev);
    // The dev script itself stopped the children and removed the temporary data folder.
    expect(existsSync(dev.dataDir)).toBe(false);
  }, START_TIMEOUT_MS + 60_000);

  it('a closed terminal (SIGHUP to the process group) ends every process', async () => {
    const dev = await startDev({ via: 'pnpm' });
    process.kill(-(dev.child.pid ?? 0), 'SIGHUP');
    await expectAllGone(dev);
  }, START_TIMEOUT_MS + 60_000);

  it('SIGKILL of pnpm alone (its shell and the dev script stay behind) ends every process', async () => {
    const dev = await startDev({ via: 'pnpm' });
    dev.child.kill('SIGKILL');
    await expectAllGone(dev);
  }, START_TIMEOUT_MS + 60_000);

  it('SIGKILL of the dev script ends every process, the daemon and the worker shutting down cleanly', async () => {
    const dev = await startDev({ via: 'node' });
    dev.child.kill('SIGKILL');
    await expectAllGone(dev);
    // A SQLite database closed by its owner leaves no write-ahead log behind; a killed one does.
    expect(existsSync(join(dev.dataDir, 'daemon.sqlite-wal'))).toBe(false);
    expect(existsSync(join(dev.dataDir, 'worker.sqlite-wal'))).toBe(false);
  }, START_TIMEOUT_MS + 60_000);

  it('a crash of the dev script (an uncaught exception) ends every process', async () => {
    const dev = await startDev({ via: 'node', nodeArgs: ['--import', './test/support/dev-crash.ts'] });
    dev.child.kill('SIGUSR2');
    await expectAllGone(dev);
    expect(dev.output.join('\n')).toContain('injected crash of the dev script');
  }, START_TIMEOUT_MS + 60_000);

  it('a closed output pipe ends every process', async () => {
    const dev = await startDev({ via: 'node' });
    dev.child.stdout?.destroy();
    // The next line the dev script prints (the bot's answer) meets the closed pipe.
    dev.child.stdin?.write('!ping\n');
    await expectAllGone(dev);
  }, START_TIMEOUT_MS + 60_000);
});
