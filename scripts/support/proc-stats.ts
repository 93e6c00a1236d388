/**
 * What Linux says about a process (`/proc/<pid>/…`): resident memory, CPU time and bytes it
 * made the kernel write to storage. The sessions benchmark reads them for the daemon.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/** One reading of a process's counters. */
export interface ProcSample {
  /** When it was read (epoch ms). */
  readonly at: number;
  /** Resident set size, bytes (`VmRSS`). */
  readonly rssBytes: number;
  /** User + system CPU time so far, ms (every thread). */
  readonly cpuMs: number;
  /** User + system CPU time of the main thread (the event loop's) so far, ms. */
  readonly mainThreadCpuMs: number;
  /** Bytes the process caused to be sent to storage so far (`write_bytes`; page-cache writeback included). */
  readonly writeBytes: number;
}

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second (`getconf CLK_TCK`, 100 on nearly every Linux). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Reads the counters of `pid` (Linux only; throws when the process is gone). */
export function sampleProcess(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0);
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const writeBytes = Number(/^write_bytes:\s+(\d+)/m.exec(io)?.[1] ?? 0);
  // The main thread is the task whose id is the process's.
  return { at: Date.now(), rssBytes: rssKb * 1024, cpuMs: statCpuMs(`/proc/${pid}/stat`), mainThreadCpuMs: statCpuMs(`/proc/${pid}/task/${pid}/stat`), writeBytes };
}

/** User + system CPU time of a `stat` file (a process's or a thread's), ms. */
function statCpuMs(file: string): number {
  // Fields after the command name (which may hold spaces) in its parentheses: utime and
  // stime are fields 14 and 15 of the line, 12th and 13th after the ')'.
  const stat = readFileSync(file, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * 1000) / clockTicks();
}

/** CPU use between two samples, in percent of one core. */
export const cpuPercent = (from: ProcSample, to: ProcSample): number => (to.at > from.at ? ((to.cpuMs - from.cpuMs) / (to.at - from.at)) * 100 : 0);

/** Bytes → MB (10^6), one decimal. */
export const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10;

/** The 1, 5 and 15 minute load averages, as `uptime` prints them. */
export const loadAverage = (): string => loadavg().map((load) => load.toFixed(2)).join(', ');

/**
 * Least-squares slope of `points` (x in minutes, y in MB): MB per minute. 0 for fewer than two
 * points.
 */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
