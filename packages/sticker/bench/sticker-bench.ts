// pnpm bench:sticker [--runs N (default 7)] [--timeout S (default 240)] [--ffmpeg PATH (default: what the engine finds)]
// Times @stickerbot/sticker against wa-sticker-formatter 4.4.4 on generated inputs. Each
// engine lives in its own long-lived worker process (as in a bot); conversions are warm,
// interleaved (alternating which engine goes first), median of N, after one untimed first
// conversion per input (reported as "first"). Peak RSS is sampled over each worker's
// process tree (node + libvips + ffmpeg) while it converts that input.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { converterEnv } from '../src/converter-env.js';
import { testFfmpeg } from '../src/test-kit/index.js';
import { generateBenchInputs, type BenchInput } from './bench-inputs.js';
import { descendants, sampleTreeRss } from './rss-sampler.js';

type EngineName = 'ours' | 'anchor';
interface RunOutcome {
  ok: boolean;
  ms: number;
  /** CPU time and minor page faults of the worker and the ffmpeg it ran, for this conversion. */
  userMs?: number;
  sysMs?: number;
  faults?: number;
  bytes?: number;
  problems?: string[];
  error?: string;
  peakRss: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const tsx = join(here, '..', '..', '..', 'node_modules', '.bin', 'tsx');
const workerScript = join(here, 'bench-worker.ts');

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '7' }, timeout: { type: 'string', default: '240' }, ffmpeg: { type: 'string' } },
});
const runs = Number(values.runs);
const timeoutMs = Number(values.timeout) * 1000;

interface Worker {
  child: ChildProcessWithoutNullStreams;
  lines: AsyncIterator<string>;
}

function startWorker(engine: EngineName, ffmpeg: string): Worker {
  const child = spawn(tsx, ['--conditions=@stickerbot/source', workerScript, engine, ffmpeg], {
    // wa-sticker-formatter's fluent-ffmpeg reads FFMPEG_PATH: both sides use the same binary.
    // Ours runs with the malloc settings the worker starts its converters with
    // (converter-env.ts); the anchor with the environment it is given, as a bot using it would.
    env: engine === 'ours' ? converterEnv({ ...process.env, FFMPEG_PATH: ffmpeg }) : { ...process.env, FFMPEG_PATH: ffmpeg },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stderr.resume();
  return { child, lines: createInterface({ input: child.stdout })[Symbol.asyncIterator]() };
}

function killTree(pid: number): void {
  for (const p of [pid, ...descendants(pid)]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

const workers = new Map<EngineName, Worker>();

async function convert(engine: EngineName, input: BenchInput, ffmpeg: string): Promise<RunOutcome> {
  let worker = workers.get(engine);
  if (worker === undefined) {
    worker = startWorker(engine, ffmpeg);
    workers.set(engine, worker);
  }
  const sampler = sampleTreeRss(worker.child.pid!);
  worker.child.stdin.write(`${input.file}\n`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const answer = await Promise.race([worker.lines.next(), timeout]);
  clearTimeout(timer);
  const peakRss = sampler.stop();
  if (answer === 'timeout' || answer.done === true) {
    // A stuck or dead worker is replaced; its next conversion starts cold again.
    killTree(worker.child.pid!);
    workers.delete(engine);
    return { ok: false, ms: timeoutMs, error: answer === 'timeout' ? `no result within ${timeoutMs / 1000} s` : 'worker died', peakRss };
  }
  return { ...(JSON.parse(answer.value) as Omit<RunOutcome, 'peakRss'>), peakRss };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Summary {
  medianMs: number | undefined;
  peakRss: number;
  bytes: number | undefined;
  within: boolean;
  note: string;
}

function summarise(outcomes: RunOutcome[]): Summary {
  const good = outcomes.filter((o) => o.ok);
  const within = outcomes.length > 0 && outcomes.every((o) => o.ok && (o.problems ?? []).length === 0);
  const firstProblem = outcomes.find((o) => !o.ok)?.error ?? outcomes.find((o) => (o.problems ?? []).length > 0)?.problems?.[0] ?? '';
  return {
    medianMs: good.length === outcomes.length && good.length > 0 ? median(good.map((o) => o.ms)) : undefined,
    peakRss: Math.max(...outcomes.map((o) => o.peakRss)),
    bytes: good.length > 0 ? median(good.map((o) => o.bytes ?? 0)) : undefined,
    within,
    note: firstProblem,
  };
}

const status = (o: RunOutcome): string =>
  o.ok
    ? `${Math.round(o.ms)} ms (cpu ${Math.round(o.userMs ?? 0)} user + ${Math.round(o.sysMs ?? 0)} sys, ${o.faults ?? 0} faults), ${o.bytes} B${(o.problems ?? []).length ? ` (${o.problems![0]})` : ''}`
    : (o.error ?? 'failed');

const dir = await mkdtemp(join(tmpdir(), 'sticker-bench-'));
try {
  const ffmpeg = values.ffmpeg ?? testFfmpeg();
  const version = spawnSync(ffmpeg, ['-version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? 'unknown version';
  process.stdout.write(`generating inputs in ${dir} (${ffmpeg}: ${version}); load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  const inputs = await generateBenchInputs(dir);
  const results = new Map<string, Record<EngineName, { first: RunOutcome; timed: RunOutcome[] }>>();
  for (const input of inputs) {
    // One untimed first conversion each; an engine that fails it is recorded as failed, not run N more times.
    const first = { ours: await convert('ours', input, ffmpeg), anchor: await convert('anchor', input, ffmpeg) };
    process.stdout.write(`  first ${input.name}: ours ${status(first.ours)}; anchor ${status(first.anchor)}\n`);
    const timed: Record<EngineName, RunOutcome[]> = { ours: [], anchor: [] };
    for (let round = 0; round < runs; round += 1) {
      const order: EngineName[] = round % 2 === 0 ? ['ours', 'anchor'] : ['anchor', 'ours'];
      for (const engine of order) {
        if (!first[engine].ok) continue;
        const outcome = await convert(engine, input, ffmpeg);
        timed[engine].push(outcome);
        process.stdout.write(`  round ${round + 1}/${runs} ${input.name} ${engine}: ${status(outcome)}\n`);
      }
    }
    results.set(input.name, { ours: { first: first.ours, timed: timed.ours }, anchor: { first: first.anchor, timed: timed.anchor } });
  }
  for (const worker of workers.values()) worker.child.stdin.end();

  const fmtMs = (ms: number | undefined): string => (ms === undefined ? 'failed' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
  const fmtBytes = (b: number | undefined): string => (b === undefined ? '—' : b.toLocaleString('en-US'));
  const fmtMb = (b: number): string => `${(b / 1024 / 1024).toFixed(0)} MB`;
  const rows: string[] = [
    '| input | ours median | anchor median | speedup | speedup range | ours CPU | anchor CPU | CPU ratio | ours faults | anchor faults | ours first | anchor first | ours peak RSS | anchor peak RSS | ours bytes | anchor bytes | ours within limits | anchor within limits |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | :---: |',
  ];
  const speedups: { animated: boolean; value: number }[] = [];
  const cpuRatios: { animated: boolean; value: number }[] = [];
  const worstRounds: { animated: boolean; value: number }[] = [];
  const cpuOf = (o: RunOutcome): number => (o.userMs ?? 0) + (o.sysMs ?? 0);
  const fmtCpu = (outcomes: RunOutcome[]): string => {
    if (outcomes.length === 0 || !outcomes.every((o) => o.ok)) return '—';
    return `${Math.round(median(outcomes.map((o) => o.userMs ?? 0)))} + ${Math.round(median(outcomes.map((o) => o.sysMs ?? 0)))} ms`;
  };
  const fmtFaults = (outcomes: RunOutcome[]): string =>
    outcomes.length === 0 || !outcomes.every((o) => o.ok) ? '—' : Math.round(median(outcomes.map((o) => o.faults ?? 0))).toLocaleString('en-US');
  let oursWithin = 0;
  let anchorWithin = 0;
  const notes: string[] = [];
  for (const input of inputs) {
    const r = results.get(input.name)!;
    const ours = summarise([r.ours.first, ...r.ours.timed]);
    const anchor = summarise([r.anchor.first, ...r.anchor.timed]);
    const oursMs = r.ours.first.ok ? summarise(r.ours.timed).medianMs : undefined;
    const anchorMs = r.anchor.first.ok ? summarise(r.anchor.timed).medianMs : undefined;
    const speedup = oursMs !== undefined && anchorMs !== undefined ? anchorMs / oursMs : undefined;
    if (speedup !== undefined) speedups.push({ animated: input.animated, value: speedup });
    // Per round: the anchor's time over ours in the same round, so the range shows the day's spread.
    const rounds = speedup === undefined ? [] : r.ours.timed.map((o, i) => r.anchor.timed[i]!.ms / o.ms);
    if (rounds.length > 0) worstRounds.push({ animated: input.animated, value: Math.min(...rounds) });
    const cpuRatio = speedup === undefined ? undefined : median(r.anchor.timed.map(cpuOf)) / median(r.ours.timed.map(cpuOf));
    if (cpuRatio !== undefined) cpuRatios.push({ animated: input.animated, value: cpuRatio });
    if (ours.within) oursWithin += 1;
    if (anchor.within) anchorWithin += 1;
    if (!anchor.within && anchor.note) notes.push(`anchor on ${input.name}: ${anchor.note}`);
    if (!ours.within && ours.note) notes.push(`ours on ${input.name}: ${ours.note}`);
    rows.push(
      `| ${input.name} | ${fmtMs(oursMs)} | ${fmtMs(anchorMs)} | ${speedup === undefined ? 'anchor failed' : `${speedup.toFixed(2)}×`} | ` +
        `${rounds.length === 0 ? '—' : `${Math.min(...rounds).toFixed(2)}–${Math.max(...rounds).toFixed(2)}×`} | ` +
        `${fmtCpu(r.ours.timed)} | ${fmtCpu(r.anchor.timed)} | ${cpuRatio === undefined ? '—' : `${cpuRatio.toFixed(2)}×`} | ` +
        `${fmtFaults(r.ours.timed)} | ${fmtFaults(r.anchor.timed)} | ` +
        `${fmtMs(r.ours.first.ok ? r.ours.first.ms : undefined)} | ${fmtMs(r.anchor.first.ok ? r.anchor.first.ms : undefined)} | ` +
        `${fmtMb(ours.peakRss)} | ${fmtMb(anchor.peakRss)} | ${fmtBytes(ours.bytes)} | ${fmtBytes(anchor.bytes)} | ` +
        `${ours.within ? 'yes' : 'NO'} | ${anchor.within ? 'yes' : 'NO'} |`,
    );
  }
  process.stdout.write(
    `\n${runs} warm runs per engine and input, interleaved, medians; speedup range = the lowest and highest anchor/ours ratio of ` +
      `one round; CPU = user + system time of the worker and the ffmpeg it ran, faults = their minor page faults (medians per ` +
      `conversion); first = the engine's first conversion of that input (its first of all for the first input); peak RSS = ` +
      `the engine worker's process tree (node + libvips + ffmpeg).\n\n${rows.join('\n')}\n\n`,
  );
  for (const note of notes) process.stdout.write(`- ${note}\n`);
  process.stdout.write(`load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  const min = (xs: number[]): string => (xs.length > 0 ? `${Math.min(...xs).toFixed(2)}×` : '—');
  process.stdout.write(
    `\nsticker: min speedup ${min(speedups.map((s) => s.value))} (animated ${min(speedups.filter((s) => s.animated).map((s) => s.value))}, ` +
      `static ${min(speedups.filter((s) => !s.animated).map((s) => s.value))}), ours within limits ${oursWithin}/${inputs.length}, ` +
      `anchor within limits ${anchorWithin}/${inputs.length}; worst round animated ${min(worstRounds.filter((s) => s.animated).map((s) => s.value))}, ` +
      `static ${min(worstRounds.filter((s) => !s.animated).map((s) => s.value))}; CPU ratio animated ${min(cpuRatios.filter((s) => s.animated).map((s) => s.value))}, ` +
      `static ${min(cpuRatios.filter((s) => !s.animated).map((s) => s.value))}\n`,
  );
} finally {
  for (const worker of workers.values()) if (worker.child.exitCode === null) killTree(worker.child.pid!);
  await rm(dir, { recursive: true, force: true });
}
