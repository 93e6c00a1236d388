/**
 * Children of a cluster test or benchmark that talk to one Redis and report as JSON lines on
 * stdout (test/support/cluster-children.ts for the tests, the takeover of `pnpm bench:cluster`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { baseEnv, repoRoot, TSX_ARGS } from './process-stack.js';

/** `balancer-child.ts`: one daemon's session balancer over the leases, reporting each session it starts and stops. */
export const BALANCER_CHILD = fileURLToPath(new URL('./balancer-child.ts', import.meta.url));

/**
 * Starts the TypeScript file `script` with `REDIS_URL`, `KEY_PREFIX` and `env` (over
 * `baseEnv()`); every stdout line is parsed as JSON and handed to `onLine`.
 */
export function spawnJsonLinesChild<T>(
  script: string,
  redis: { url: string; prefix: string },
  env: Record<string, string>,
  onLine: (line: T) => void,
  stderr: 'pipe' | 'inherit' | 'ignore' = 'pipe',
): ChildProcess {
  return spawnJsonLines(script, { REDIS_URL: redis.url, KEY_PREFIX: redis.prefix, ...env }, onLine, stderr);
}

/**
 * Starts the TypeScript file `script` with `env` (over `baseEnv()`) and `preloads` (plain-JS
 * files to `--import` first); every stdout line is parsed as JSON and handed to `onLine`.
 */
export function spawnJsonLines<T>(
  script: string,
  env: Record<string, string>,
  onLine: (line: T) => void,
  stderr: 'pipe' | 'inherit' | 'ignore' = 'pipe',
  preloads: readonly string[] = [],
): ChildProcess {
  const child = spawn(process.execPath, [...preloads.flatMap((file) => ['--import', pathToFileURL(file).href]), ...TSX_ARGS, script], {
    cwd: repoRoot,
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', stderr],
  });
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) if (part.trim() !== '') onLine(JSON.parse(part) as T);
  });
  return child;
}
