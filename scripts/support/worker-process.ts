/** Runs the real worker as users do (scripts/run.mjs worker) as a child process, with its JSON log lines kept. */
import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot, WORKER_ARGS } from './process-stack.js';

export interface WorkerProcess extends AsyncDisposable {
  readonly child: ChildProcess;
  readonly lines: Array<Record<string, unknown>>;
  /** Resolves when a log line's `msg` includes `text` (after `from` lines). */
  waitForLog(text: string, options?: { from?: number; timeoutMs?: number }): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): void;
}

export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, WORKER_ARGS, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const line of parts) {
      if (!line.trim()) continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ msg: line });
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));

  return {
    child,
    lines,
    exited,
    kill: (signal) => void child.kill(signal),
    async waitForLog(text, options = {}) {
      const started = Date.now();
      const timeoutMs = options.timeoutMs ?? 30_000;
      for (;;) {
        const found = lines.slice(options.from ?? 0).find((line) => String(line.msg).includes(text));
        if (found) return found;
        if (child.exitCode !== null) throw new Error(`worker exited (${child.exitCode}) before logging "${text}"; stderr: ${stderr}`);
        if (Date.now() - started > timeoutMs) throw new Error(`worker did not log "${text}" in ${timeoutMs} ms; stderr: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
