// pnpm bench:sticker [--runs N (default 7)] [--timeout S (default 240)]
// Times @stickerbot/sticker against wa-sticker-formatter 4.4.4 on generated inputs.
// Speed: warm conversions in this one process, interleaved (alternating which engine goes
// first), median of N. Memory: one cold conversion per engine and input in a fresh
// process, peak RSS of its process tree. Prints a table and one summary line.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { checkStickerRules } from '../../src/index.js';
import { testFfmpeg } from '../fixtures.js';
import { createBenchEngines } from './bench-engines.js';
import { generateBenchInputs, type BenchInput } from './bench-inputs.js';
import { descendants, sampleTreeRss } from './rss-sampler.js';

type EngineName = 'ours' | 'anchor';
interface RunOutcome {
  ok: boolean;
  ms: number;
  bytes?: number;
  problems?: string[];
  error?: string;
}
interface ColdOutcome extends RunOutcome {
  peakRss: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const tsx = join(here, '..', '..', '..', '..', 'node_modules', '.bin', 'tsx');
const worker = join(here, 'bench-worker.ts');

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, timeout: { type: 'string', default: '240' } } });
const runs = Number(values.runs);
const timeoutMs = Number(values.timeout) * 1000;

function coldRun(engine: EngineName, input: BenchInput, ffmpeg: string): Promise<ColdOutcome> {
  return new Promise((resolve) => {
    const child = spawn(tsx, ['--conditions=@stickerbot/source', worker, engine, input.file, ffmpeg], {
      env: { ...process.env, FFMPEG_PATH: ffmpeg },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sampler = sampleTreeRss(child.pid!);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // Kill the whole tree: the anchor's ffmpeg is a grandchild.
      for (const pid of [child.pid!, ...descendants(child.pid!)]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }, timeoutMs);
    child.on('close', () => {
      clearTimeout(timer);
      const peakRss = sampler.stop();
      if (timedOut) {
        resolve({ ok: false, ms: timeoutMs, error: `no result within ${timeoutMs / 1000} s`, peakRss });
        return;
      }
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve({ ...(JSON.parse(line) as RunOutcome), peakRss });
      } catch {
        resolve({ ok: false, ms: 0, error: `worker crashed: ${stderr.trim().split('\n').slice(-3).join(' | ')}`, peakRss });
      }
    });
  });
}

async function warmRun(convert: (input: Buffer) => Promise<Buffer>, bytes: Buffer): Promise<RunOutcome> {
  // A fresh copy each time, so no cache keyed on the input's memory can answer for the engine.
  const input = Buffer.from(bytes);
  const started = performance.now();
  try {
    const output = await convert(input);
    return { ok: true, ms: performance.now() - started, bytes: output.length, problems: checkStickerRules(output) };
  } catch (err) {
    return { ok: false, ms: performance.now() - started, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Summary {
  medianMs: number | undefined;
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
    bytes: good.length > 0 ? median(good.map((o) => o.bytes ?? 0)) : undefined,
    within,
    note: firstProblem,
  };
}

const status = (o: RunOutcome): string =>
  o.ok ? `${Math.round(o.ms)} ms, ${o.bytes} B${(o.problems ?? []).length ? ` (${o.problems![0]})` : ''}` : (o.error ?? 'failed');

const dir = await mkdtemp(join(tmpdir(), 'sticker-bench-'));
try {
  const ffmpeg = testFfmpeg();
  // wa-sticker-formatter's fluent-ffmpeg reads FFMPEG_PATH: both sides use the same binary.
  process.env.FFMPEG_PATH = ffmpeg;
  // libvips' operation cache would let repeated conversions of one input skip work; off for both.
  sharp.cache(false);
  process.stdout.write(`generating inputs in ${dir} (ffmpeg ${ffmpeg})\n`);
  const inputs = await generateBenchInputs(dir);
  const engines = createBenchEngines(ffmpeg);
  const warm = new Map<string, Record<EngineName, RunOutcome[]>>();
  const cold = new Map<string, Record<EngineName, ColdOutcome>>();
  for (const input of inputs) {
    const bytes = await readFile(input.file);
    const results: Record<EngineName, RunOutcome[]> = { ours: [], anchor: [] };
    // One untimed warm-up each; an engine that fails it is recorded as failed, not timed N more times.
    const failedWarmUp = new Set<EngineName>();
    for (const engine of ['ours', 'anchor'] as const) {
      const outcome = await warmRun(engines[engine], bytes);
      if (!outcome.ok) {
        failedWarmUp.add(engine);
        results[engine].push(outcome);
      }
      process.stdout.write(`  warm-up ${input.name} ${engine}: ${status(outcome)}\n`);
    }
    for (let round = 0; round < runs; round += 1) {
      const order: EngineName[] = round % 2 === 0 ? ['ours', 'anchor'] : ['anchor', 'ours'];
      for (const engine of order) {
        if (failedWarmUp.has(engine)) continue;
        const outcome = await warmRun(engines[engine], bytes);
        results[engine].push(outcome);
        process.stdout.write(`  round ${round + 1}/${runs} ${input.name} ${engine}: ${status(outcome)}\n`);
      }
    }
    warm.set(input.name, results);
  }
  await engines.close();
  for (const input of inputs) {
    const ours = await coldRun('ours', input, ffmpeg);
    const anchor = await coldRun('anchor', input, ffmpeg);
    process.stdout.write(`  cold ${input.name}: ours ${status(ours)}, anchor ${status(anchor)}\n`);
    cold.set(input.name, { ours, anchor });
  }

  const fmtMs = (ms: number | undefined): string => (ms === undefined ? 'failed' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
  const fmtBytes = (b: number | undefined): string => (b === undefined ? '—' : b.toLocaleString('en-US'));
  const fmtMb = (b: number): string => `${(b / 1024 / 1024).toFixed(0)} MB`;
  const rows: string[] = [
    '| input | ours median | anchor median | speedup | ours cold | anchor cold | ours peak RSS | anchor peak RSS | ours bytes | anchor bytes | ours within limits | anchor within limits |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | :---: |',
  ];
  const speedups: { animated: boolean; value: number }[] = [];
  let oursWithin = 0;
  let anchorWithin = 0;
  const notes: string[] = [];
  for (const input of inputs) {
    const w = warm.get(input.name)!;
    const c = cold.get(input.name)!;
    const ours = summarise([...w.ours, c.ours]);
    const anchor = summarise([...w.anchor, c.anchor]);
    const oursWarm = summarise(w.ours).medianMs;
    const anchorWarm = summarise(w.anchor).medianMs;
    const speedup = oursWarm !== undefined && anchorWarm !== undefined ? anchorWarm / oursWarm : undefined;
    if (speedup !== undefined) speedups.push({ animated: input.animated, value: speedup });
    if (ours.within) oursWithin += 1;
    if (anchor.within) anchorWithin += 1;
    if (!anchor.within && anchor.note) notes.push(`anchor on ${input.name}: ${anchor.note}`);
    if (!ours.within && ours.note) notes.push(`ours on ${input.name}: ${ours.note}`);
    rows.push(
      `| ${input.name} | ${fmtMs(oursWarm)} | ${fmtMs(anchorWarm)} | ${speedup === undefined ? 'anchor failed' : `${speedup.toFixed(2)}×`} | ` +
        `${fmtMs(c.ours.ok ? c.ours.ms : undefined)} | ${fmtMs(c.anchor.ok ? c.anchor.ms : undefined)} | ` +
        `${fmtMb(c.ours.peakRss)} | ${fmtMb(c.anchor.peakRss)} | ${fmtBytes(ours.bytes)} | ${fmtBytes(anchor.bytes)} | ` +
        `${ours.within ? 'yes' : 'NO'} | ${anchor.within ? 'yes' : 'NO'} |`,
    );
  }
  process.stdout.write(
    `\n${runs} warm runs per engine and input, interleaved, medians; cold = one conversion in a fresh process ` +
      `(module loading excluded); peak RSS = node + sharp + ffmpeg process tree of that cold run.\n\n${rows.join('\n')}\n\n`,
  );
  for (const note of notes) process.stdout.write(`- ${note}\n`);
  const min = (xs: number[]): string => (xs.length > 0 ? `${Math.min(...xs).toFixed(2)}×` : '—');
  process.stdout.write(
    `\nsticker: min speedup ${min(speedups.map((s) => s.value))} (animated ${min(speedups.filter((s) => s.animated).map((s) => s.value))}, ` +
      `static ${min(speedups.filter((s) => !s.animated).map((s) => s.value))}), ours within limits ${oursWithin}/${inputs.length}, ` +
      `anchor within limits ${anchorWithin}/${inputs.length}\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
