/**
 * A process whose stdout reader went away (`pnpm dev` killed with SIGKILL, pm2 gone) still
 * exits when it calls `process.exit`, its last records lost, not retried. With pino's default
 * asynchronous stdout it hung in the exit flush forever, retrying EPIPE every 100 ms.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { TSX_ARGS, repoRoot } from '../../../scripts/support/process-stack.js';

const childFile = fileURLToPath(new URL('./logger-exit-child.ts', import.meta.url));

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe('createLogger writing to a closed stdout', () => {
  it.each([
    ['JSON', '0'],
    ['pretty', '1'],
  ])('lets the process exit (%s records)', async (_format, pretty) => {
    const child = spawn(process.execPath, [...TSX_ARGS, childFile], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PRETTY: pretty },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const stdout = child.stdout;
    const [first] = (await once(stdout.setEncoding('utf8'), 'data')) as [string];
    expect(first).toContain('running');
    // Nobody reads its stdout from here on: the next write gets EPIPE.
    stdout.destroy();
    await once(stdout, 'close');
    child.stdin?.end('stop\n');
    const outcome = await Promise.race([exit, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000))]);
    expect(outcome, `the process did not exit within 10 s; stderr:\n${stderr}`).toEqual([0, null]);
  }, 30_000);
});
