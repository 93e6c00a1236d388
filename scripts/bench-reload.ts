/**
 * `pnpm bench:reload`: how fast a worker change goes live while events keep flowing.
 *
 * The daemon (real createDaemon, fake WhatsApp, own process: scripts/support/fake-wa-daemon.ts)
 * receives `!ping` from fresh contacts at a steady rate; the real worker answers them.
 * (a) edit→live: the worker runs in watch mode (`scripts/run.mjs worker --watch`, as in
 *     `pnpm dev`); a worker source file is touched, and the time runs until the restarted
 *     worker has connected and answered.
 * (b) kill→live: a plain worker is killed with SIGKILL and started again at once (as pm2
 *     does); the time runs until the new one has connected and answered.
 * Afterwards every message must have exactly one answer: lost and duplicated are counted.
 *
 * Options: BENCH_ROUNDS (default 10), BENCH_RATE messages a second (default 20).
 */
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { createStack, exited, replyGaps, repoRoot, stopWorker, until } from './support/process-stack.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 10);
const rate = Number(process.env.BENCH_RATE ?? 20);
const editedFile = join(repoRoot, 'packages/worker/src/commands/ping.ts');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : Math.round(((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2);
}

const stack = createStack({ sessions: 20 });
const env = { LOG_LEVEL: 'info' };
let feeder: NodeJS.Timeout | undefined;

/** Time from each trigger to the new worker's bridge connection (the process start share). */
const connectTimes = { edit: [] as number[], kill: [] as number[] };

/** Waits for a worker connection after `since`, then for the first answer after that connection. */
async function liveAfter(since: number, connectsBefore: number, kind?: 'edit' | 'kill'): Promise<number> {
  await until(() => stack.workerConnects.length > connectsBefore, 'the worker to connect again', 60_000, 5);
  const connectedAt = stack.workerConnects[connectsBefore] ?? since;
  if (kind) connectTimes[kind].push(connectedAt - since);
  await until(() => stack.replies.some((reply) => reply.at >= connectedAt), 'an answer from the new worker', 60_000, 5);
  const first = stack.replies.find((reply) => reply.at >= connectedAt);
  return (first?.at ?? Date.now()) - since;
}

try {
  const daemon = await stack.startDaemon();
  for (const sessionId of stack.sessions) daemon.request({ t: 'scan', sessionId });
  await until(() => daemon.reports.filter((r) => r.t === 'open').length === stack.sessions.length, 'the sessions to open');
  feeder = setInterval(() => stack.send(Math.max(1, Math.round(rate / 10))), 100);

  const edit: number[] = [];
  let worker = stack.startWorker(env, { watch: true });
  await liveAfter(Date.now(), 0);
  for (let i = 0; i < rounds; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 700));
    const connects = stack.workerConnects.length;
    const t0 = Date.now();
    utimesSync(editedFile, new Date(), new Date());
    edit.push(await liveAfter(t0, connects, 'edit'));
    process.stdout.write(`edit ${i + 1}: ${edit.at(-1)} ms\n`);
  }
  await stopWorker(worker, 'SIGTERM');

  const kill: number[] = [];
  worker = stack.startWorker(env);
  await liveAfter(Date.now(), stack.workerConnects.length);
  for (let i = 0; i < rounds; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 700));
    const connects = stack.workerConnects.length;
    const t0 = Date.now();
    worker.kill('SIGKILL');
    await exited(worker);
    worker = stack.startWorker(env);
    kill.push(await liveAfter(t0, connects, 'kill'));
    process.stdout.write(`kill ${i + 1}: ${kill.at(-1)} ms\n`);
  }
  clearInterval(feeder);
  const ids = [...stack.inbound];
  await until(() => ids.every((id) => stack.repliesTo.has(id)), 'every message to be answered', 120_000, 50).catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await stopWorker(worker, 'SIGTERM');
  const { lost, duplicated } = replyGaps(stack, ids);

  const rows = Array.from({ length: rounds }, (_, i) => `| ${String(i + 1).padStart(5)} | ${String(edit[i]).padStart(12)} | ${String(kill[i]).padStart(12)} |`);
  process.stdout.write(
    [
      '',
      `reload benchmark: ${ids.length} messages at ${rate}/s over ${stack.sessions.length} sessions, ${rounds} rounds each`,
      '',
      '| round | edit→live ms | kill→live ms |',
      '| ----: | -----------: | -----------: |',
      ...rows,
      `| median | ${String(median(edit)).padStart(11)} | ${String(median(kill)).padStart(12)} |`,
      `|   max | ${String(Math.max(...edit)).padStart(12)} | ${String(Math.max(...kill)).padStart(12)} |`,
      '',
      `of which until the new worker was connected to the daemon (process start): edit median ${median(connectTimes.edit)} ms, kill median ${median(connectTimes.kill)} ms`,
      '',
      `messages ${ids.length}, answered ${ids.length - lost.length}, lost ${lost.length}, duplicated ${duplicated.length}`,
      `reload: edit→live median ${median(edit)} ms, kill→live median ${median(kill)} ms, lost ${lost.length}, duplicated ${duplicated.length}`,
      '',
    ].join('\n'),
  );
  process.exitCode = lost.length === 0 && duplicated.length === 0 ? 0 : 1;
} catch (err) {
  process.stderr.write(`bench:reload failed: ${String(err)}\n${stack.log.slice(-30).join('\n')}\n`);
  process.exitCode = 1;
} finally {
  if (feeder) clearInterval(feeder);
  await stack.close();
}
