/**
 * Runs `src/main.ts` as a real child process (through tsx, as `pnpm daemon` does) and
 * checks the operator-facing lifecycle: it listens, generates the token file with mode
 * 0600, reports `ready` over IPC, answers /healthz, and exits 0 on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from './bridge-harness.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const mainFile = fileURLToPath(new URL('../src/main.ts', import.meta.url));

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function startMain(env: Record<string, string>): { child: ChildProcess; lines: Array<Record<string, unknown>>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@stickerbot/source', mainFile], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines: Array<Record<string, unknown>> = [];
  let buffered = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as Record<string, unknown>);
      } catch {
        // Not a log line.
      }
    }
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return { child, lines, stderr: () => stderr };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('main.ts as a child process', () => {
  it('listens, writes the token file with mode 0600, answers /healthz and exits 0 on SIGTERM, even signalled twice', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-main-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const { child, lines, stderr } = startMain({
      STICKERBOT_DATA_DIR: dataDir,
      STICKERBOT_PORT: '0',
      STICKERBOT_SESSIONS: '',
      LOG_LEVEL: 'info',
    });
    const ready = await new Promise<unknown>((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`main.ts exited with ${code}: ${stderr()}`)));
    });
    expect(ready).toBe('ready');
    // The IPC message can overtake the log lines in the stdout pipe.
    await until(() => lines.some((line) => line.msg === 'bridge listening'), 'the listening log line');
    const listening = lines.find((line) => line.msg === 'bridge listening');
    expect(listening).toMatchObject({ host: '127.0.0.1' });
    const port = listening?.port as number;

    expect(statSync(join(dataDir, 'token')).mode & 0o777).toBe(0o600);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    // Secrets never reach the log.
    const token = readFileSync(join(dataDir, 'token'), 'utf8').trim();
    expect(JSON.stringify(lines)).not.toContain(token);

    child.kill('SIGTERM');
    // A second signal during the shutdown does not cut it short.
    child.kill('SIGINT');
    expect(await exited(child)).toEqual({ code: 0, signal: null });
    await until(() => lines.some((line) => line.msg === 'daemon stopped'), 'the stopped log line', 2000);
    expect(lines.some((line) => line.msg === 'daemon stopped')).toBe(true);
  }, 60_000);

  it('refuses to start on a bad configuration, naming the variable, with exit code 1', async () => {
    const { child, stderr } = startMain({ STICKERBOT_HOST: '0.0.0.0', STICKERBOT_PORT: 'many' });
    expect((await exited(child)).code).toBe(1);
    expect(stderr()).toContain('STICKERBOT_PORT');
    expect(stderr()).not.toContain('    at ');
  }, 60_000);
});
