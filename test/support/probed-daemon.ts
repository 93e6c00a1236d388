/**
 * The bundled daemon (`scripts/run.mjs daemon`, as pm2 and `pnpm daemon` start it) with a
 * probe preloaded (`--import`), in a fresh data folder, for tests that look inside the
 * daemon's own process. Killed and its folder removed by the returned `cleanup`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../scripts/support/process-stack.js';

/** A daemon started by {@link startProbedDaemon}. */
export interface ProbedDaemon {
  child: ChildProcess;
  /** A temporary folder of its own (the data folder is `data` in it): where a probe writes. */
  dir: string;
  /** Its stdout and stderr so far. */
  output(): string;
  /** SIGKILLs it and removes its folder. */
  cleanup(): void;
}

/**
 * Starts the daemon on a free port with `probe` preloaded and `env(dir)` over a minimal
 * environment (`dir`: the daemon's folder, for the files a probe writes).
 */
export function startProbedDaemon(probe: string, env: (dir: string) => Record<string, string>): ProbedDaemon {
  const dir = mkdtempSync(join(tmpdir(), 'stickerbot-probed-daemon-'));
  const child = spawn(process.execPath, ['--import', probe, join(repoRoot, 'scripts/run.mjs'), 'daemon'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', STICKERBOT_DATA_DIR: join(dir, 'data'), STICKERBOT_PORT: '0', LOG_LEVEL: 'info', ...env(dir) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return {
    child,
    dir,
    output: () => output,
    cleanup() {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
