/**
 * `pnpm dev` ends with whatever started it. Ctrl-C, a closed terminal (SIGHUP) and SIGTERM
 * reach scripts/dev.ts as signals; but pnpm, on SIGTERM, kills the `sh -c` it runs the
 * script through and exits without waiting, and pnpm killed with SIGKILL leaves that shell
 * behind: either way the dev script hears nothing, only its ancestry changes.
 */
import { readFileSync } from 'node:fs';

/** The parent pid of `pid` from /proc (Linux); undefined where there is no /proc or no such process. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Calls `onGone` once when this process's parent or grandparent goes away (re-parenting
 * changes the pid). The grandparent is only known where /proc exists.
 */
export function watchLauncher(onGone: () => void, everyMs = 500): void {
  const parent = process.ppid;
  const grandparent = parentOf(parent);
  const timer = setInterval(() => {
    if (process.ppid === parent && (grandparent === undefined || parentOf(parent) === grandparent)) return;
    clearInterval(timer);
    onGone();
  }, everyMs);
  timer.unref();
}
