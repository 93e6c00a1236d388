/**
 * Processes by /proc (Linux): a process tree as it is now, and whether its members are
 * still alive later, after re-parenting has scattered them. A pid is recorded with its
 * start time, so a pid the kernel hands to a new process does not count as a survivor.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** One process, as /proc/<pid>/stat and cmdline describe it. */
export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** The process's start time in clock ticks since boot (stat field 22). */
  readonly start: string;
  /** One of R S D Z T …; Z: exited, waiting for a parent to reap it. */
  readonly state: string;
  readonly command: string;
}

function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { pid, ppid: Number(fields[1]), start: fields[19] ?? '', state: fields[0] ?? '', command };
  } catch {
    return undefined;
  }
}

/** `root` and all its descendants as they are now. */
export function processTree(root: number): ProcessInfo[] {
  const all = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProcess(Number(name)))
    .filter((info): info is ProcessInfo => info !== undefined);
  const tree: ProcessInfo[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift();
    const info = all.find((candidate) => candidate.pid === pid);
    if (!info) continue;
    tree.push(info);
    for (const child of all) if (child.ppid === pid) queue.push(child.pid);
  }
  return tree;
}

/** True while this very process (same pid, same start time) exists and has not exited. */
export function isAlive(recorded: ProcessInfo): boolean {
  const now = readProcess(recorded.pid);
  return now !== undefined && now.start === recorded.start && now.state !== 'Z';
}
