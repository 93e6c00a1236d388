import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { converterEnv } from './converter-env.js';

/**
 * The helper's whole program, run with `node -e` (no module to resolve, so it works from
 * source, from dist and inside test runners alike). It spawns what it is asked to, with the
 * socket it is handed as the child's stdout, reports the pid, the exit and the end of
 * stderr, and kills on request; when its parent goes away (the IPC channel closes) it kills
 * its children and exits.
 */
const HELPER_PROGRAM = `
const { spawn } = require('node:child_process');
const children = new Map();
const KEEP = 16 * 1024;
process.on('message', (msg, handle) => {
  if (msg.type === 'kill') { const c = children.get(msg.id); if (c) c.kill('SIGKILL'); return; }
  if (msg.type !== 'run') return;
  let child;
  try {
    child = spawn(msg.command, msg.args, { stdio: ['ignore', handle || 'ignore', 'pipe'] });
  } catch (err) {
    if (handle) handle.destroy();
    process.send({ type: 'exit', id: msg.id, code: null, stderr: '', error: String(err && err.message) });
    return;
  }
  if (handle) handle.destroy();
  children.set(msg.id, child);
  let stderr = '';
  let error;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-KEEP); });
  child.on('error', (err) => { error = err.message; });
  if (child.pid !== undefined) process.send({ type: 'pid', id: msg.id, pid: child.pid });
  child.on('close', (code) => {
    children.delete(msg.id);
    process.send({ type: 'exit', id: msg.id, code, stderr, error });
  });
});
process.on('disconnect', () => {
  for (const c of children.values()) c.kill('SIGKILL');
  process.exit(0);
});
`;

/** A child started by the helper: what runProcess needs of a spawned process. */
export interface HelperChild {
  /** Known once the helper has spawned it (a few milliseconds after `run`). */
  pid: number | undefined;
  kill(): void;
}

/** How a helper-run child ended: exit code (null when killed), the last 16 KiB of stderr, a spawn error. */
export interface HelperExit {
  code: number | null;
  stderr: string;
  error?: string | undefined;
}

/** A long-lived small process that starts ffmpeg for the engine. */
export interface SpawnHelper {
  /**
   * Runs `command` with `stdout` (one end of a connected Unix socket, handed over and closed
   * here) as its stdout, stdin from /dev/null. `onExit` is called once, when the child is gone.
   */
  run(command: string, args: readonly string[], stdout: Socket, onExit: (exit: HelperExit) => void): HelperChild;
  /** The helper's own pid. */
  readonly pid: number;
  /** False once the helper has exited or been closed: runs then fail, and the engine starts another. */
  isAlive(): boolean;
  /** Kills the helper (its children with it). */
  close(): void;
}

interface Running {
  child: HelperChild;
  onExit: (exit: HelperExit) => void;
}

/**
 * Starts the spawn helper. Why it exists: Node spawns by forking itself, and after every
 * fork each page the engine's process writes takes a copy-on-write fault once, whatever
 * memory it is; in VMs with a software-virtualised MMU a fault costs ~15–20 µs, so a
 * video conversion (a few hundred MB of process, ~7,000 pages written while ffmpeg runs)
 * paid ~100 ms of CPU for it, plus ~12 ms for the fork itself. The helper is a bare Node
 * (~40 MB) that forks instead of us: its pages are few and it barely writes them. Undefined
 * when it cannot be started; the caller then spawns directly.
 */
export function startSpawnHelper(): SpawnHelper | undefined {
  // The helper hands its environment to ffmpeg: the converter malloc settings with it.
  const env = converterEnv(process.env);
  // A loader the parent was started with (tsx, a test runner) has nothing to do in the helper.
  delete env.NODE_OPTIONS;
  let helper: ChildProcess;
  try {
    helper = spawn(process.execPath, ['-e', HELPER_PROGRAM], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], env, serialization: 'json' });
  } catch {
    return undefined;
  }
  if (helper.pid === undefined) return undefined;
  const running = new Map<number, Running>();
  let nextId = 1;
  let alive = true;
  // Idle, the helper keeps nothing alive: a process that never closes its engine still exits.
  const hold = (): void => {
    if (running.size > 0) helper.channel?.ref();
    else helper.channel?.unref();
  };
  helper.unref();
  hold();
  const finish = (id: number, exit: HelperExit): void => {
    const run = running.get(id);
    if (run === undefined) return;
    running.delete(id);
    hold();
    run.onExit(exit);
  };
  helper.on('message', (msg: { type: string; id: number; pid?: number; code?: number | null; stderr?: string; error?: string }) => {
    if (msg.type === 'pid') {
      const run = running.get(msg.id);
      if (run !== undefined) run.child.pid = msg.pid;
    } else if (msg.type === 'exit') {
      finish(msg.id, { code: msg.code ?? null, stderr: msg.stderr ?? '', error: msg.error });
    }
  });
  const gone = (): void => {
    alive = false;
    for (const [id, run] of [...running]) {
      // A helper killed from outside could not kill what it started: its ffmpeg runs go now.
      if (run.child.pid !== undefined) {
        try {
          process.kill(run.child.pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      finish(id, { code: null, stderr: '', error: 'the spawn helper exited' });
    }
  };
  helper.on('exit', gone);
  helper.on('error', gone);
  return {
    run(command, args, stdout, onExit) {
      const id = nextId;
      nextId += 1;
      const child: HelperChild = {
        pid: undefined,
        kill: () => {
          if (alive && running.has(id)) helper.send({ type: 'kill', id });
        },
      };
      if (!alive) {
        stdout.destroy();
        queueMicrotask(() => onExit({ code: null, stderr: '', error: 'the spawn helper exited' }));
        return child;
      }
      running.set(id, { child, onExit });
      hold();
      // Node tracks a server-accepted socket sent over IPC in a per-server list that adds an
      // 'exit' listener to the helper each time (our servers are one per run): detach it, the
      // server is closed already.
      (stdout as Socket & { server: unknown }).server = null;
      // The socket is handed over (its descriptor travels with the message) and our copy is closed once sent.
      helper.send({ type: 'run', id, command, args: [...args] }, stdout, (err) => {
        stdout.destroy();
        if (err !== null) finish(id, { code: null, stderr: '', error: `could not reach the spawn helper: ${err.message}` });
      });
      return child;
    },
    pid: helper.pid,
    isAlive: () => alive,
    close() {
      alive = false;
      helper.kill('SIGKILL');
    },
  };
}
