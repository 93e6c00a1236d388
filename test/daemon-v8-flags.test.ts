/**
 * The daemon's V8 flags: `scripts/run.mjs daemon`, the way pm2, `pnpm daemon` and the
 * benchmarks start it, runs the daemon with V8's defaults, applies `STICKERBOT_DAEMON_V8_FLAGS`
 * in the daemon's own process before the daemon's code runs, and refuses it when it is not a
 * list of flags.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exited, repoRoot, until } from '../scripts/support/process-stack.js';
import { startProbedDaemon, type ProbedDaemon } from './support/probed-daemon.js';

const PROBE = join(repoRoot, 'test/support/v8-flags-probe.mjs');

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Starts the bundled daemon with no session and the probe; `flags()` lists what it passed to V8. */
function startDaemon(env: Record<string, string>): ProbedDaemon & { flags: () => string[] } {
  const daemon = startProbedDaemon(PROBE, (dir) => ({ STICKERBOT_SESSIONS: '', V8_FLAGS_FILE: join(dir, 'flags.txt'), ...env }));
  cleanups.push(() => daemon.cleanup());
  const file = join(daemon.dir, 'flags.txt');
  const flags = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((line) => line !== '') : []);
  return { ...daemon, flags };
}

const running = (daemon: { output: () => string }) => until(() => daemon.output().includes('"msg":"daemon running"'), 'the daemon to run', 60_000);

describe('scripts/run.mjs daemon', () => {
  it('runs the daemon with V8 defaults when STICKERBOT_DAEMON_V8_FLAGS is not set', async () => {
    const daemon = startDaemon({});
    await running(daemon);
    expect(daemon.flags()).toEqual([]);
    daemon.child.kill('SIGTERM');
    await exited(daemon.child);
    expect(daemon.child.exitCode).toBe(0);
  }, 90_000);

  it('applies STICKERBOT_DAEMON_V8_FLAGS in the daemon process itself', async () => {
    // --trace-gc shows that V8 took a flag set at run time: every GC after it prints a line
    // (V8 prints with C's stdio, which flushes a pipe at exit).
    const daemon = startDaemon({ STICKERBOT_DAEMON_V8_FLAGS: '--trace-gc  --heap-growing-percent=50' });
    await running(daemon);
    expect(daemon.flags()).toEqual(['--trace-gc', '--heap-growing-percent=50']);
    daemon.child.kill('SIGTERM');
    await exited(daemon.child);
    expect(daemon.output()).toMatch(/\bScavenge\b|\bMark-Compact\b/);
  }, 90_000);

  it('refuses a STICKERBOT_DAEMON_V8_FLAGS that is not a list of flags', async () => {
    const daemon = startDaemon({ STICKERBOT_DAEMON_V8_FLAGS: '--heap-growing-percent=20 ; rm -rf' });
    await exited(daemon.child);
    expect(daemon.child.exitCode).toBe(2);
    expect(daemon.output()).toContain('STICKERBOT_DAEMON_V8_FLAGS: ";" is not a V8 flag');
    expect(daemon.flags()).toEqual([]);
  }, 90_000);
});
