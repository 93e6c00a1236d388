/**
 * `pnpm bench:sessions`: the sessions side's inbound path alone: fake-socket
 * `messages.upsert` → map → journal append (real SQLite file) → `journaled` event, one
 * message per upsert as WhatsApp delivers live traffic. Prints a table and one summary line.
 *
 * `pnpm bench:sessions --real N [--idle-s S] [--traffic-s S] [--cpu-prof DIR] [--live-heap]`: N real
 * Baileys sessions of realistic emulated accounts in one daemon process, measured from outside
 * (scripts/support/real-sessions-bench.ts); `--live-heap` adds the daemon's heap after a full
 * GC at the end of each phase. `STICKERBOT_DAEMON_V8_FLAGS` reaches that daemon (scripts/run.mjs
 * applies it), to compare V8 flags against its defaults.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createSessionRegistry, openStorage } from '@stickerbot/daemon';
import { routeConsoleToLogger } from '@stickerbot/runtime';
import { buildTextMessage, createFakeWa } from '@stickerbot/daemon/test-kit';
import { cpuSplitLine, growthLine, phaseTable, runRealSessionsBench, summaryLine } from '../../../scripts/support/real-sessions-bench.js';

const { values } = parseArgs({ options: { real: { type: 'string' }, 'idle-s': { type: 'string' }, 'traffic-s': { type: 'string' }, 'cpu-prof': { type: 'string' }, 'live-heap': { type: 'boolean' } } });
const wholeNumber = (name: string, raw: string | undefined, fallback: number, min: number): number => {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    process.stderr.write(`bench:sessions: --${name} takes a whole number ≥ ${min}, got ${raw}\n`);
    process.exit(2);
  }
  return value;
};

if (values.real !== undefined) {
  const sessions = wholeNumber('real', values.real, 1, 1);
  if (sessions > 100) {
    process.stderr.write(`bench:sessions: --real takes 1..100 sessions, got ${sessions}\n`);
    process.exit(2);
  }
  const idleS = wholeNumber('idle-s', values['idle-s'], 60, 1);
  const trafficS = wholeNumber('traffic-s', values['traffic-s'], 180, 3);
  const print = (line: string) => void process.stdout.write(`${line}\n`);
  // The emulator's libsignal prints whole session records to the console when it replaces one.
  routeConsoleToLogger(pino({ level: 'silent' }));
  const result = await runRealSessionsBench({ sessions, idleS, trafficS, ...(values['cpu-prof'] ? { cpuProfDir: values['cpu-prof'] } : {}), liveHeap: values['live-heap'] === true, say: (line) => print(`# ${line}`) });
  print(phaseTable(result));
  print(
    `messages ${result.messages} (send errors ${result.sendErrors}), delivered to the bench consumer ${result.delivered}, commands ${result.commands}, answered ${result.answered}; ` +
      `event latency p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms = up to ${result.p99ToJournalMs} ms send → journaled + up to ${result.p99JournalToConsumerMs} ms journaled → consumer; RSS with one session ${result.oneMb} MB; RSS slope over the last two thirds of traffic ${result.lateSlopeMbPerMin.toFixed(2)} MB/min` +
      (result.heap ? `; V8 heap used ${result.heap.usedMb} MB, total ${result.heap.totalMb} MB, external ${result.heap.externalMb} MB at the end of traffic` : ''),
  );
  const live = (phase: string) => result.phases.find((row) => row.phase === phase)?.liveHeapMb;
  const [liveOne, liveAll] = [live('one session linked'), live(`${sessions} sessions linked`)];
  if (liveOne !== undefined && liveAll !== undefined && sessions > 1) {
    print(`heap after a full GC: ${liveOne} MB with one session, ${liveAll} MB with ${sessions}, ${((liveAll - liveOne) / (sessions - 1)).toFixed(2)} MB per extra session`);
  }
  if (result.growth) print(growthLine(result));
  if (result.cpuSplit) print(cpuSplitLine(result));
  print(`load average before ${result.loadBefore}, after ${result.loadAfter} (${cpus().length} cores)`);
  print(summaryLine(result));
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'stickerbot-bench-sessions-'));
const storage = openStorage(dir);
const wa = createFakeWa({ linked: true });
const registry = createSessionRegistry({ storage, socketFactory: wa.factory, maxMediaBytes: 16 * 1024 * 1024, logger: pino({ level: 'silent' }) });
let journaled = 0;
registry.on('journaled', () => (journaled += 1));
try {
  await registry.startAll(['default']);
  while (registry.get('default')?.status !== 'CONNECTED') await new Promise((resolve) => setTimeout(resolve, 10));
  const rows: { messages: number; perSecond: number; p50: number; p99: number }[] = [];
  for (const count of [1_000, 10_000]) {
    const messages = Array.from({ length: count }, (_, i) => buildTextMessage({ from: '4915100000001', text: `!ping ${i}`, pushName: 'Alice' }));
    const latencies: number[] = [];
    const started = performance.now();
    for (const message of messages) {
      const t = performance.now();
      wa.session('default').receive([message]);
      latencies.push(performance.now() - t);
    }
    const elapsed = performance.now() - started;
    latencies.sort((a, b) => a - b);
    rows.push({
      messages: count,
      perSecond: Math.round((count / elapsed) * 1000),
      p50: latencies[Math.floor(count * 0.5)] ?? 0,
      p99: latencies[Math.floor(count * 0.99)] ?? 0,
    });
  }
  console.log('| messages | upserts/s | handler p50 (ms) | handler p99 (ms) |');
  console.log('| ---: | ---: | ---: | ---: |');
  for (const row of rows) console.log(`| ${row.messages} | ${row.perSecond} | ${row.p50.toFixed(3)} | ${row.p99.toFixed(3)} |`);
  const last = rows.at(-1);
  console.log(`sessions: journal-first upsert ${last?.perSecond ?? 0} msg/s, handler p99 ${last?.p99.toFixed(2) ?? '?'} ms at 10k (${journaled} entries journaled)`);
} finally {
  await registry.stopAll();
  storage.close();
  rmSync(dir, { recursive: true, force: true });
}
