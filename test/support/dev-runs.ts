/**
 * What the `pnpm dev` lifetime tests share (dev-lifetime.test.ts, dev-cluster-lifetime.test.ts):
 * runs started in their own process group, their output, their process tree from /proc, and
 * the check that every recorded process is gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { isAlive, type ProcessInfo } from './process-tree.js';
import { exited, repoRoot, until } from '../../scripts/support/process-stack.js';

/** Start-up takes several seconds of CPU per process on a small machine; ending gets generous room. */
export const START_TIMEOUT_MS = 150_000;
/**
 * Past exit-with-parent's forced SIGKILL (30 s after its SIGTERM), so a shutdown that is slow
 * on a loaded machine is not mistaken for an orphan; whether it was clean is checked apart
 * (no `-wal` file left). The survivors this once caught, under load, were daemons that had
 * stopped cleanly and then hung in `process.exit`: pino's asynchronous stdout retried the
 * dead pipe forever in its exit flush, where no timer runs (createLogger now writes
 * synchronously; packages/runtime/test/logger-exit.test.ts).
 */
export const END_TIMEOUT_MS = 40_000;

/** A process tree the test started: whatever of it is still alive is killed by {@link killRuns}. */
export interface Run {
  readonly child: ChildProcess;
  readonly output: string[];
  /** Whole lines of stdout alone (where the dev script prints). */
  readonly stdout: string[];
  /** Every process of the tree, recorded once it was up. */
  tree: ProcessInfo[];
  /** `pnpm dev --sim`'s temporary data folder. */
  dataDir: string;
}

const runs: Run[] = [];

/** Spawns a command in its own process group, as a terminal runs a foreground job. */
export function launch(command: string, args: string[], env: Record<string, string>): Run {
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const run: Run = { child, output: [], stdout: [], tree: [], dataDir: '' };
  if (child.stdout) createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => run.stdout.push(line));
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8').on('data', (chunk: string) => run.output.push(...chunk.split('\n').filter((line) => line.trim() !== '')));
  }
  // The case that closes the output pipe does so on purpose: the dev script may be gone.
  child.stdin?.on('error', () => undefined);
  runs.push(run);
  return run;
}

/** The processes of the run's tree whose command line matches. */
export function findAll(run: Run, pattern: RegExp): ProcessInfo[] {
  return run.tree.filter((info) => pattern.test(info.command));
}

/** The process of the run's tree whose command line matches. */
export function find(run: Run, pattern: RegExp): ProcessInfo {
  const found = findAll(run, pattern)[0];
  if (!found) throw new Error(`no process matching ${pattern} in:\n${run.tree.map((info) => `${info.pid} ${info.command}`).join('\n')}`);
  return found;
}

/** A process's kernel state and wait channel (`/proc/<pid>/status`, `wchan`), for a failure message. */
function procState(pid: number): string {
  const read = (file: string) => {
    try {
      return readFileSync(`/proc/${pid}/${file}`, 'utf8');
    } catch {
      return '';
    }
  };
  const status = read('status');
  const field = (name: string) => new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(status)?.[1] ?? '?';
  // SigCgt/SigIgn: the signals it handles or ignores (SIGTERM is bit 15, 0x4000); fds: whether it still holds an IPC channel.
  let fds = '?';
  try {
    fds = readdirSync(`/proc/${pid}/fd`)
      .map((fd) => `${fd}→${readlinkSync(`/proc/${pid}/fd/${fd}`)}`)
      .join(' ');
  } catch {
    // gone meanwhile
  }
  return `state ${field('State')}, ppid ${field('PPid')}, threads ${field('Threads')}, SigCgt ${field('SigCgt')}, SigIgn ${field('SigIgn')}, wchan ${read('wchan') || '?'}, fds ${fds}`;
}

/** Every recorded process of the tree must be gone within END_TIMEOUT_MS; `roles` must have been in it. */
export async function expectAllGone(run: Run, roles: readonly RegExp[]): Promise<void> {
  for (const role of roles) find(run, role);
  await until(() => run.tree.every((info) => !isAlive(info)), 'every process of pnpm dev to end', END_TIMEOUT_MS, 200).catch(() => {
    // What a survivor is doing (its kernel state and wait channel) and the last lines of the
    // run, so that a failure says why, not only who.
    const survivors = run.tree.filter(isAlive).map((info) => `${info.pid} ${info.command} [${procState(info.pid)}]`);
    throw new Error(`still running ${END_TIMEOUT_MS} ms after the end of pnpm dev:\n${survivors.join('\n')}\nlast output:\n${run.output.slice(-30).join('\n')}`);
  });
}

/** Kills whatever a case left running (a failed case must not leave it to the next one) and removes its data folder. */
export async function killRuns(): Promise<void> {
  for (const run of runs.splice(0)) {
    for (const info of run.tree) if (isAlive(info)) process.kill(info.pid, 'SIGKILL');
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    await exited(run.child);
    if (run.dataDir) rmSync(run.dataDir, { recursive: true, force: true });
  }
}
