import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * A cap on a child process's address space. Node cannot call setrlimit, so the child is
 * started through util-linux `prlimit`, which sets RLIMIT_AS on itself and then execs the
 * command (same pid). Where `prlimit` is not installed there is no cap; the header checks
 * still bound what a job may decode.
 */
export interface MemoryCap {
  prlimit: string;
  bytes: number;
}

/** Finds `prlimit` on PATH; undefined when it is missing or the cap is off (`bytes` 0). */
export function locateMemoryCap(bytes: number, pathEnv: string | undefined): MemoryCap | undefined {
  if (bytes <= 0) return undefined;
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'prlimit');
    try {
      accessSync(candidate, constants.X_OK);
      return { prlimit: candidate, bytes };
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The command line that runs `command` under `cap` (unchanged without one). */
export function cappedCommand(command: string, args: readonly string[], cap: MemoryCap | undefined): { command: string; args: readonly string[] } {
  if (cap === undefined) return { command, args };
  return { command: cap.prlimit, args: [`--as=${Math.floor(cap.bytes)}`, '--', command, ...args] };
}
