/**
 * scripts/run.mjs: the worker runs from a cached esbuild bundle of its source, the cache
 * follows the source, `--watch` (what `pnpm dev` runs) restarts the worker on a saved
 * change, into a spare process, without losing or repeating an answer; the daemon runs
 * the same way, and a wrong call says how to call it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createStack, exited, repoRoot, until, type Stack } from '../scripts/support/process-stack.js';
import { spawnWorker } from '../scripts/support/worker-process.js';
import { isAlive, processTree } from './support/process-tree.js';

const MANIFEST = join(repoRoot, 'node_modules/.cache/stickerbot/worker/manifest.json');
const PING = join(repoRoot, 'packages/worker/src/commands/ping.ts');

interface Manifest {
  entry: string;
  bundle: string;
  preload: string[];
  inputs: Array<{ path: string; mtimeMs: number; size: number }>;
}
const manifest = () => JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest;

/** The command lines of a process's children (Linux /proc). */
function childrenOf(pid: number): string[] {
  const pids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter((p) => p.trim() !== '');
  return pids.map((child) => readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' '));
}

/** Starts the worker (no daemon: it keeps retrying) until it runs, then stops it; returns its children while it ran. */
async function runOnce(): Promise<string[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-run-'));
  try {
    await using worker = spawnWorker({ STICKERBOT_BRIDGE_URL: 'http://127.0.0.1:9', STICKERBOT_TOKEN: 'x'.repeat(43), STICKERBOT_DATA_DIR: dataDir });
    await worker.waitForLog('worker starting', { timeoutMs: 60_000 });
    return childrenOf(worker.child.pid ?? 0);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * A scratch tree with the launcher and a worker entry of the test's own, so that code that
 * does not build never touches the repository's sources (or other tests' workers).
 */
function scratchTree(main: string): { root: string; main: string; [Symbol.dispose](): void } {
  const root = mkdtempSync(join(tmpdir(), 'stickerbot-run-tree-'));
  mkdirSync(join(root, 'scripts'));
  for (const name of ['run.mjs', 'exit-with-parent.mjs']) copyFileSync(join(repoRoot, 'scripts', name), join(root, 'scripts', name));
  mkdirSync(join(root, 'node_modules'));
  symlinkSync(realpathSync(join(repoRoot, 'node_modules/esbuild')), join(root, 'node_modules/esbuild'));
  mkdirSync(join(root, 'packages/worker/src'), { recursive: true });
  const file = join(root, 'packages/worker/src/main.ts');
  writeFileSync(file, main);
  return { root, main: file, [Symbol.dispose]: () => rmSync(root, { recursive: true, force: true }) };
}

/** A stand-in worker: says which process it is, stays up, leaves on SIGTERM. */
const STAND_IN = (tag: string) =>
  `process.stdout.write(\`${tag} \${process.pid}\\n\`);\nprocess.on('SIGTERM', () => process.exit(0));\nsetInterval(() => undefined, 1000);\nprocess.send?.('ready');\n`;
const BROKEN = 'export const answer: number = ;\n';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe('scripts/run.mjs', () => {
  it('builds the bundle once and again only when a file it was built from changed', async () => {
    await runOnce();
    const before = manifest();
    expect(before.inputs.map((input) => input.path)).toEqual(expect.arrayContaining([PING, join(repoRoot, 'packages/worker/src/main.ts'), join(repoRoot, 'pnpm-lock.yaml')]));
    // Dependencies are loaded by Node from node_modules, not bundled.
    expect(before.preload.some((url) => url.includes('/socket.io-client/'))).toBe(true);
    expect(readFileSync(before.bundle, 'utf8')).not.toMatch(/^\/\/ node_modules\/.*socket\.io-client/m);

    await runOnce();
    expect(manifest().inputs).toEqual(before.inputs);
    expect(manifest().entry).toBe(join(repoRoot, 'packages/worker/src/main.ts'));

    // A saved edit gives the file a new modification time (an older one here, so that a
    // build running at the same moment elsewhere records it as well).
    const { atime, mtime } = statSync(PING);
    const edited = new Date(mtime.getTime() - 60_000);
    try {
      utimesSync(PING, atime, edited);
      const children = await runOnce();
      expect(manifest().inputs.find((input) => input.path === PING)?.mtimeMs).toBe(statSync(PING).mtimeMs);
      // esbuild's service process, which got the worker's environment (its token), is gone once the bundle is built.
      expect(children.filter((command) => command.includes('esbuild'))).toEqual([]);
    } finally {
      utimesSync(PING, atime, mtime);
    }
  }, 120_000);

  it('--watch restarts the worker on a saved change into a spare that answers, each message answered once', async () => {
    stack = createStack();
    const s = stack;
    const daemon = await s.startDaemon();
    daemon.request({ t: 'scan', sessionId: 's0' });
    await until(() => daemon.reports.some((r) => r.t === 'open'), 'the session to open');
    const watcher = s.startWorker({ LOG_LEVEL: 'info' }, { watch: true });
    await until(() => s.workerConnects.length === 1, 'the worker to connect', 90_000);
    const first = s.send(3);
    await until(() => first.every((id) => s.repliesTo.has(id)), 'the answers of the first worker', 30_000);

    utimesSync(PING, new Date(), statSync(PING).mtime);
    await until(() => s.workerConnects.length === 2, 'the restarted worker to connect', 90_000);
    const second = s.send(3);
    await until(() => second.every((id) => s.repliesTo.has(id)), 'the answers of the restarted worker', 30_000);

    // The first worker stopped gracefully before the spare took over; the watcher lives on.
    const output = s.log.join('\n');
    expect(output).toContain('packages/worker/src/commands/ping.ts changed: restarting the worker');
    expect(output.indexOf('"msg":"worker stopped"')).toBeGreaterThan(-1);
    expect(output.indexOf('"msg":"worker stopped"')).toBeLessThan(output.lastIndexOf('connected to the daemon'));
    expect(watcher.exitCode).toBeNull();
    for (const id of [...first, ...second]) expect(s.repliesTo.get(id)?.size).toBe(1);
  }, 180_000);

  it('runs the daemon the same way: it listens, serves its dashboard page and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-run-'));
    const daemon = spawn(process.execPath, [join(repoRoot, 'scripts/run.mjs'), 'daemon'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', STICKERBOT_DATA_DIR: dataDir, STICKERBOT_PORT: '0', STICKERBOT_SESSIONS: '', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      daemon.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      daemon.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      await until(() => output.includes('"msg":"daemon running"'), 'the daemon to run', 60_000);
      const port = Number(/"port":(\d+)/.exec(output)?.[1]);
      // The page's files are found beside its source (import.meta.url stays the .ts file's).
      const page = await fetch(`http://127.0.0.1:${port}/dashboard/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      daemon.kill('SIGTERM');
      await exited(daemon);
      expect(daemon.exitCode).toBe(0);
    } finally {
      daemon.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);

  it('says how to call it when called wrong (only the worker has a watch mode)', () => {
    for (const args of [[], ['dashboard'], ['daemon', '--watch']]) {
      const run = spawnSync(process.execPath, [join(repoRoot, 'scripts/run.mjs'), ...args], { encoding: 'utf8' });
      expect(run.status).toBe(2);
      expect(run.stderr).toBe('usage: node scripts/run.mjs daemon | worker [--watch]\n');
    }
  });

  it('refuses source that does not build with esbuild\'s file:line, and exits 1', () => {
    using tree = scratchTree(BROKEN);
    const run = spawnSync(process.execPath, [join(tree.root, 'scripts/run.mjs'), 'worker'], { cwd: tree.root, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("the worker's source does not build:");
    expect(run.stderr).toContain('packages/worker/src/main.ts:1:');
  });

  it('--watch keeps the running worker when a saved change does not build, and restarts it once it does', async () => {
    using tree = scratchTree(STAND_IN('first'));
    const watcher = spawn(process.execPath, [join(tree.root, 'scripts/run.mjs'), 'worker', '--watch'], { cwd: tree.root, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let stdout = '';
      let stderr = '';
      watcher.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      watcher.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      await until(() => /first \d+/.test(stdout), 'the first worker', 60_000);
      const pid = Number(/first (\d+)/.exec(stdout)?.[1]);
      const first = processTree(watcher.pid ?? 0).find((info) => info.pid === pid);
      if (!first) throw new Error(`the first worker (${pid}) is not a child of the watcher`);

      writeFileSync(tree.main, BROKEN);
      await until(() => stderr.includes('the worker keeps running the code it has'), 'the build error', 30_000);
      expect(stderr).toContain('packages/worker/src/main.ts:1:');
      expect(isAlive(first)).toBe(true);

      writeFileSync(tree.main, STAND_IN('second'));
      await until(() => /second \d+/.test(stdout), 'the restarted worker', 60_000);
      expect(Number(/second (\d+)/.exec(stdout)?.[1])).not.toBe(pid);
      await until(() => !isAlive(first), 'the first worker to stop', 30_000);
    } finally {
      watcher.kill('SIGTERM');
      await exited(watcher);
    }
  }, 120_000);
});
