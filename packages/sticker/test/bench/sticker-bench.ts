// pnpm bench:sticker [--runs N (default 5)] [--timeout S (default 240)]
// Times @stickerbot/sticker against wa-sticker-formatter 4.4.4 on generated inputs,
// interleaved in one run, each conversion in a fresh process; prints a table and one summary line.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { testFfmpeg } from '../fixtures.js';
import { generateBenchInputs, type BenchInput } from './bench-inputs.js';
import { descendants, sampleTreeRss } from './rss-sampler.js';

type EngineName = 'ours' | 'anchor';
interface RunOutcome {
  ok: boolean;
  ms: number;
  bytes?: number;
  frames?: number;
  problems?: string[];
  error?: string;
  peakRss: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const tsx = join(here, '..', '..', '..', '..', 'node_modules', '.bin', 'tsx');
const worker = join(here, 'bench-worker.ts');

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, timeout: { type: 'string', default: '240' } } });
const runs = Number(values.runs);
const timeoutMs = Number(values.timeout) * 1000;

function runOnce(engine: EngineName, input: BenchInput, ffmpeg: string): Promise<RunOutcome> {
  return new Promise((resolve) => {
    const child = spawn(tsx, ['--conditions=@stickerbot/source', worker, engine, input.file], {
      // fluent-ffmpeg (inside wa-sticker-formatter) finds ffmpeg through FFMPEG_PATH; give both the same binary.
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
        resolve({ ...(JSON.parse(line) as Omit<RunOutcome, 'peakRss'>), peakRss });
      } catch {
        resolve({ ok: false, ms: 0, error: `worker crashed: ${stderr.trim().split('\n').slice(-3).join(' | ')}`, peakRss });
      }
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Summary {
  medianMs: number | undefined;
  peakMb: number;
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
    peakMb: Math.max(...outcomes.map((o) => o.peakRss)) / 1024 / 1024,
    bytes: good.length > 0 ? median(good.map((o) => o.bytes ?? 0)) : undefined,
    within,
    note: firstProblem,
  };
}

const dir = await mkdtemp(join(tmpdir(), 'sticker-bench-'));
try {
  const ffmpeg = testFfmpeg();
  process.stdout.write(`generating inputs in ${dir} (ffmpeg ${ffmpeg})\n`);
  const inputs = await generateBenchInputs(dir);
  const results = new Map<string, Record<EngineName, RunOutcome[]>>(inputs.map((i) => [i.name, { ours: [], anchor: [] }]));
  for (let round = 0; round < runs; round += 1) {
    for (const input of inputs) {
      // Interleaved, alternating which engine goes first, so machine noise hits both alike.
      const order: EngineName[] = round % 2 === 0 ? ['ours', 'anchor'] : ['anchor', 'ours'];
      for (const engine of order) {
        const outcome = await runOnce(engine, input, ffmpeg);
        results.get(input.name)![engine].push(outcome);
        const status = outcome.ok ? `${Math.round(outcome.ms)} ms, ${outcome.bytes} B${(outcome.problems ?? []).length ? ` (${outcome.problems![0]})` : ''}` : outcome.error;
        process.stdout.write(`  round ${round + 1}/${runs} ${input.name} ${engine}: ${status}\n`);
      }
    }
  }

  const fmtMs = (ms: number | undefined): string => (ms === undefined ? 'failed' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
  const fmtBytes = (b: number | undefined): string => (b === undefined ? '—' : b.toLocaleString('en-US'));
  const rows: string[] = [
    '| input | ours median | anchor median | speedup | ours peak RSS | anchor peak RSS | ours bytes | anchor bytes | ours within limits | anchor within limits |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | :---: |',
  ];
  const speedups: number[] = [];
  let oursWithin = 0;
  let anchorWithin = 0;
  const notes: string[] = [];
  for (const input of inputs) {
    const r = results.get(input.name)!;
    const ours = summarise(r.ours);
    const anchor = summarise(r.anchor);
    const speedup = ours.medianMs !== undefined && anchor.medianMs !== undefined ? anchor.medianMs / ours.medianMs : undefined;
    if (speedup !== undefined) speedups.push(speedup);
    if (ours.within) oursWithin += 1;
    if (anchor.within) anchorWithin += 1;
    if (!anchor.within && anchor.note) notes.push(`anchor on ${input.name}: ${anchor.note}`);
    if (!ours.within && ours.note) notes.push(`ours on ${input.name}: ${ours.note}`);
    rows.push(
      `| ${input.name} | ${fmtMs(ours.medianMs)} | ${fmtMs(anchor.medianMs)} | ${speedup === undefined ? 'anchor failed' : `${speedup.toFixed(2)}×`} | ` +
        `${ours.peakMb.toFixed(0)} MB | ${anchor.peakMb.toFixed(0)} MB | ${fmtBytes(ours.bytes)} | ${fmtBytes(anchor.bytes)} | ` +
        `${ours.within ? 'yes' : 'NO'} | ${anchor.within ? 'yes' : 'NO'} |`,
    );
  }
  process.stdout.write(`\n${runs} runs per engine and input, medians; peak RSS = node + sharp + ffmpeg process tree.\n\n${rows.join('\n')}\n\n`);
  for (const note of notes) process.stdout.write(`- ${note}\n`);
  const minSpeedup = speedups.length > 0 ? Math.min(...speedups) : 0;
  process.stdout.write(
    `\nsticker: min speedup ${minSpeedup.toFixed(2)}×, ours within limits ${oursWithin}/${inputs.length}, anchor within limits ${anchorWithin}/${inputs.length}\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
