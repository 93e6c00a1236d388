// One engine in its own long-lived process: reads one input path per stdin line, converts
// it, answers one JSON line per conversion. Timing covers the conversion only (the file is
// read before); each engine keeps its own heap and libvips state between conversions.
// Each answer also carries the CPU time (user, system) and minor page faults the conversion
// cost this process, the children it waited for (ffmpeg) and its live descendants (the
// engine's spawn helper and the ffmpeg runs it reaped), from getrusage and /proc.
// argv: <ours|anchor> <ffmpeg>
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { checkStickerRules } from '../src/index.js';
import { createBenchEngines } from './bench-engines.js';
import { descendants } from './rss-sampler.js';

const [engineName, ffmpeg] = process.argv.slice(2);
if ((engineName !== 'ours' && engineName !== 'anchor') || ffmpeg === undefined) {
  process.stderr.write('usage: bench-worker <ours|anchor> <ffmpeg>\n');
  process.exit(2);
}
/**
 * A live process's CPU and minor faults with those of the children it reaped, from
 * /proc/<pid>/stat after the command name: minflt, cminflt, utime, stime, cutime, cstime
 * are fields 10, 11, 14–17 (clock ticks of 10 ms).
 */
function procUsage(pid: number): { userMs: number; sysMs: number; faults: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return {
    userMs: (Number(fields[11]) + Number(fields[13])) * 10,
    sysMs: (Number(fields[12]) + Number(fields[14])) * 10,
    faults: Number(fields[7]) + Number(fields[8]),
  };
}

/**
 * CPU milliseconds and minor faults of this process, its reaped children (ffmpeg) and its
 * live descendants with what they reaped (the engine's spawn helper and the ffmpeg runs it
 * started), so far.
 */
function usage(): { userMs: number; sysMs: number; faults: number } {
  const self = process.resourceUsage();
  let children = { userMs: 0, sysMs: 0, faults: 0 };
  try {
    // /proc/self/stat after the command name: cminflt, cutime and cstime are fields 11, 16, 17 (clock ticks of 10 ms).
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    children = { userMs: Number(fields[13]) * 10, sysMs: Number(fields[14]) * 10, faults: Number(fields[8]) };
    for (const pid of descendants(process.pid)) {
      try {
        const live = procUsage(pid);
        children.userMs += live.userMs;
        children.sysMs += live.sysMs;
        children.faults += live.faults;
      } catch {
        // ended between the listing and the read: its time is in its parent's children now
      }
    }
  } catch {
    // not Linux: children are not counted
  }
  return { userMs: self.userCPUTime / 1000 + children.userMs, sysMs: self.systemCPUTime / 1000 + children.sysMs, faults: self.minorPageFault + children.faults };
}

const engines = createBenchEngines(ffmpeg);
const convert = engines[engineName];
for await (const file of createInterface({ input: process.stdin })) {
  const input = await readFile(file);
  const before = usage();
  const started = performance.now();
  try {
    const output = await convert(input);
    const ms = performance.now() - started;
    const after = usage();
    const cost = { userMs: after.userMs - before.userMs, sysMs: after.sysMs - before.sysMs, faults: after.faults - before.faults };
    process.stdout.write(`${JSON.stringify({ ok: true, ms, ...cost, bytes: output.length, problems: checkStickerRules(output) })}\n`);
  } catch (err) {
    const ms = performance.now() - started;
    process.stdout.write(`${JSON.stringify({ ok: false, ms, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) })}\n`);
  }
}
await engines.close();
process.exit(0);
