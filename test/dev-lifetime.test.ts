/**
 * `pnpm dev --sim` ends whole, however it ends: Ctrl-C, a closed terminal, pnpm killed with
 * SIGKILL, the dev script killed with SIGKILL, a crash of the dev script, its output pipe
 * closed. Each case starts the real thing (through pnpm where the case is about pnpm or the
 * terminal), waits until the bot answers `!ping` in the terminal chat, records every
 * process of the tree from /proc, ends it, and then requires every recorded process to be
 * gone. All starts share one daemon port: each start after the first also proves that the
 * one before left nothing holding it. Last, the piece that makes SIGKILL survivable: a
 * worker whose watcher (scripts/run.mjs worker --watch) dies stops by itself, and so does a
 * forked process orphaned before it had finished starting.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { END_TIMEOUT_MS, START_TIMEOUT_MS, expectAllGone as expectGone, killRuns, launch, type Run } from './support/dev-runs.js';
import { isAlive, processTree } from './support/process-tree.js';
import { TSX_ARGS, repoRoot, until } from '../scripts/support/process-stack.js';
import { freePort } from '../scripts/support/free-port.js';

let port = 0;

/** Starts `pnpm dev --sim` (or the dev script directly) and waits until the bot has answered `!ping`. */
async function startDev(options: { via: 'pnpm' | 'node'; nodeArgs?: string[] }): Promise<Run> {
  const env = { NO_COLOR: '1', STICKERBOT_PORT: String(port) };
  const run =
    options.via === 'pnpm'
      ? launch('pnpm', ['dev', '--sim'], env)
      : launch(process.execPath, [...TSX_ARGS, ...(options.nodeArgs ?? []), 'scripts/dev.ts', '--sim'], env);
  const { child, output } = run;
  const seen = (pattern: RegExp) => output.some((line) => pattern.test(line));
  const failed = () => child.exitCode !== null || child.signalCode !== null;
  const failure = () => new Error(`pnpm dev ended or hung on start (port ${port}):\n${output.slice(-40).join('\n')}`);
  await until(() => failed() || (seen(/connected to the daemon/) && seen(/connected to WhatsApp/)), 'the worker and the WhatsApp session', START_TIMEOUT_MS, 100);
  if (failed()) throw failure();
  // The bot answering in the terminal chat is the whole loop working, on the shared port.
  const deadline = Date.now() + 60_000;
  while (!seen(/bot → Alice: pong/)) {
    if (failed() || Date.now() > deadline) throw failure();
    child.stdin?.write('!ping\n');
    await until(() => failed() || seen(/bot → Alice: pong/), 'the answer to !ping', 10_000, 100).catch(() => undefined);
  }
  expect(seen(new RegExp(`127\\.0\\.0\\.1:${port}`))).toBe(true);
  run.tree = processTree(child.pid ?? 0);
  run.dataDir = /data in (\S+)/.exec(output.find((line) => line.includes('data in ')) ?? '')?.[1] ?? '';
  return run;
}

/**
 * Every recorded process must be gone. Whatever else runs (pnpm, its shell, esbuild
 * services, converters), these five must have been in the tree: the worker is a spare the
 * watcher handed the bundle to.
 */
function expectAllGone(run: Run): Promise<void> {
  return expectGone(run, [/scripts\/dev\.ts/, /wa-sim\/src\/main\.ts/, /scripts\/sim-daemon\.ts/, /run\.mjs worker --watch/, /run\.mjs worker --spare/]);
}

beforeAll(async () => {
  port = await freePort();
});

// A failed case must not leave its processes to the next one (or to the machine).
afterEach(killRuns, 30_000);

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
    // Up to here the terminal showed only the script's own lines and one line per record of
    // the emulator, the daemon and the worker (scripts/support/dev-output.ts).
    const record = /^(daemon|worker|wa-sim) +│ \d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \S/;
    expect(dev.stdout.filter((line) => !line.startsWith('dev    │ ') && !record.test(line))).toEqual([]);
    expect(dev.stdout.filter((line) => record.test(line)).length).toBeGreaterThan(10);
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

describe('a process of pnpm dev whose parent dies', () => {
  it('the worker and its spare stop by themselves, the worker gracefully, when their watcher is killed with SIGKILL', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-dev-lifetime-'));
    // As scripts/dev.ts starts it: the preload reaches the watcher and, through it, the worker.
    const preload = pathToFileURL(join(repoRoot, 'scripts/exit-with-parent.mjs')).href;
    const run = launch(process.execPath, [join(repoRoot, 'scripts/run.mjs'), 'worker', '--watch'], {
      NODE_OPTIONS: `--import=${preload}`,
      STICKERBOT_DATA_DIR: dataDir,
      // No daemon: the worker keeps trying to connect, which is all this needs.
      STICKERBOT_BRIDGE_URL: `http://127.0.0.1:${await freePort()}`,
    });
    run.dataDir = dataDir;
    // The worker writes to the pipes it inherited from the watcher: still read here once the watcher is gone.
    const output = () => run.output.join('\n');
    await until(() => output().includes('worker starting'), 'the worker to start', START_TIMEOUT_MS, 100);
    // The next spare starts once the worker has: wait for both.
    await until(() => processTree(run.child.pid ?? 0).filter((info) => /run\.mjs worker --spare/.test(info.command)).length === 2, 'the spare', START_TIMEOUT_MS, 100);
    run.tree = processTree(run.child.pid ?? 0);
    const children = run.tree.filter((info) => /run\.mjs worker --spare/.test(info.command));
    run.child.kill('SIGKILL');
    await until(() => children.every((info) => !isAlive(info)), 'the orphaned worker and spare to exit', END_TIMEOUT_MS, 100);
    // Its own SIGTERM handler ran: the graceful stop, not a kill.
    expect(output()).toMatch(/"signal":"SIGTERM".*"msg":"shutting down"/);
    expect(output()).toContain('"msg":"worker stopped"');
  }, START_TIMEOUT_MS + 60_000);

  it('a forked process whose parent dies while it is still starting leaves too', async () => {
    // The child's first preload waits 3 s with its event loop running, as a loaded
    // machine's module loading does: the parent is gone before exit-with-parent runs, its
    // IPC channel closed with nobody listening and its parent pid already the adopter's.
    const dir = mkdtempSync(join(tmpdir(), 'stickerbot-exit-with-parent-'));
    try {
      writeFileSync(join(dir, 'slow-start.mjs'), 'await new Promise((resolve) => setTimeout(resolve, 3000));\n');
      // Lives until something ends it.
      writeFileSync(join(dir, 'child.mjs'), 'setInterval(() => undefined, 1000);\n');
      const url = (path: string) => JSON.stringify(pathToFileURL(path).href);
      writeFileSync(
        join(dir, 'parent.mjs'),
        [
          "import { fork } from 'node:child_process';",
          `const execArgv = ['--import', ${url(join(dir, 'slow-start.mjs'))}, '--import', ${url(join(repoRoot, 'scripts/exit-with-parent.mjs'))}];`,
          `const child = fork(${JSON.stringify(join(dir, 'child.mjs'))}, [], { stdio: 'ignore', execArgv });`,
          'console.log(child.pid);',
          'process.exit(0);',
        ].join('\n'),
      );
      const parent = launch(process.execPath, [join(dir, 'parent.mjs')], {});
      await until(() => parent.child.exitCode !== null && parent.stdout.length > 0, 'the parent to fork and exit', 30_000, 50);
      // Recorded in the run, so that killRuns ends it if it stays.
      parent.tree = processTree(Number(parent.stdout[0]));
      const [child] = parent.tree;
      expect(child?.command).toContain('child.mjs');
      await until(() => parent.tree.every((info) => !isAlive(info)), 'the orphaned child to exit', 20_000, 100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
