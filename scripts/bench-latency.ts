/**
 * `pnpm bench:latency`: how long a user waits for the bot, measured on the contact's phone.
 *
 * The wa-sim emulator (WhatsApp's servers and the contacts' phones, in this process), the
 * daemon with real Baileys (its own process, production pacing) and the real worker (its
 * own process): see scripts/support/latency-stack.ts. Every time runs from the moment
 * before the contact's phone sends to the moment it has decrypted the bot's answer (the
 * text reply, or the sticker message; ⏳/✅ reactions are not answers).
 *
 * - ping: `!ping` on an idle bot, round-robin over a pool of contacts (rate limits).
 * - image→sticker: a 1280×960 JPEG with `!s`; video→sticker: a 3 s 640×360 MP4 with `!s`.
 * - ping behind 12 GIF jobs: four contacts each send three small GIFs (2 s 320×240, as
 *   WhatsApp sends GIFs: MP4 with gifPlayback) with `!s`, then another contact sends
 *   `!ping`; once all twelve stickers are out, the next round (fresh senders in rotation).
 * - backlog 3 commands: with the worker stopped, one contact sends `!help`, `!ping`,
 *   `!stats`; once the daemon has journaled them (its receipts reached the phone) the worker
 *   is spawned; the time runs from the spawn to the phone decrypting the last answer.
 * Between samples the bench waits until the bot is quiet (every ⏳ has its ✅ or ❌).
 *
 * Prints a table (n, p50, p99, max per metric), the load average, and one line. Counts:
 * BENCH_PINGS (20), BENCH_IMAGES (20), BENCH_VIDEOS (5), BENCH_GIF_ROUNDS (5),
 * BENCH_BACKLOGS (3); `--quick` runs 2, 2, 1, 1, 1 (a smoke run of the bench itself).
 */
import { loadavg } from 'node:os';
import { makeJpeg, makeMp4 } from '@stickerbot/sticker/test-kit';
import { startLatencyStack, type LatencyStack, type TimedPhone, type TimedSend } from './support/latency-stack.js';
import { until } from './support/process-stack.js';

const quick = process.argv.includes('--quick');
const count = (name: string, normal: number, small: number) => Number(process.env[name] ?? (quick ? small : normal));
const counts = {
  pings: count('BENCH_PINGS', 20, 2),
  images: count('BENCH_IMAGES', 20, 2),
  videos: count('BENCH_VIDEOS', 5, 1),
  gifRounds: count('BENCH_GIF_ROUNDS', 5, 1),
  backlogs: count('BENCH_BACKLOGS', 3, 1),
};
/** The worker's rate limit refills a command every 4 s: a GIF sender set is reused only after its three are back. */
const SENDER_REST_MS = 12_000;

// libsignal (in the emulator's phones) prints whole session records with console.*.
const quiet = (): void => undefined;
console.log = quiet;
console.info = quiet;
console.warn = quiet;
const print = (line: string) => void process.stdout.write(`${line}\n`);

/** Nearest-rank percentile. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

/** Contact numbers: one range per role, so no contact's rate limit is shared between roles. */
const contact = (role: number, index: number) => `49152${String(role).padStart(2, '0')}${String(index).padStart(5, '0')}`;

const results = new Map<string, number[]>();
const record = (metric: string, ms: number) => {
  results.set(metric, [...(results.get(metric) ?? []), ms]);
  print(`${metric}: ${Math.round(ms)} ms`);
};

async function idleSamples(stack: LatencyStack, pool: readonly TimedPhone[], metric: string, n: number, send: Parameters<TimedPhone['ask']>[0], kind: 'text' | 'sticker') {
  for (let i = 0; i < n; i++) {
    const phone = pool[i % pool.length];
    if (!phone) throw new Error('empty contact pool');
    record(metric, (await phone.ask(send, kind)).ms);
    await stack.settle();
  }
}

async function gifRounds(stack: LatencyStack, pinger: TimedPhone, senderSets: readonly TimedPhone[][], gif: Buffer) {
  const lastUse = new Map<number, number>();
  for (let round = 0; round < counts.gifRounds; round++) {
    const setIndex = round % senderSets.length;
    const senders = senderSets[setIndex] ?? [];
    const rested = (lastUse.get(setIndex) ?? 0) + SENDER_REST_MS;
    if (Date.now() < rested) await new Promise((resolve) => setTimeout(resolve, rested - Date.now()));
    const jobs: Array<{ sender: TimedPhone; sent: TimedSend }> = [];
    for (let g = 0; g < 3; g++) {
      for (const sender of senders) jobs.push({ sender, sent: await sender.send((p) => p.sendMedia('gif', gif, { caption: '!s', seconds: 2, width: 320, height: 240 })) });
    }
    lastUse.set(setIndex, Date.now());
    record('ping behind 12 GIF jobs', (await pinger.ask((p) => p.sendText('!ping'), 'text', 600_000)).ms);
    const stickers = await Promise.all(jobs.map(({ sender, sent }) => sender.answerTo(sent, 'sticker', 600_000)));
    record('12 GIF jobs: first send → last sticker', Math.max(...stickers.map((s) => s.answer.receivedAt)) - (jobs[0]?.sent.sentAt ?? 0));
    await stack.settle();
  }
}

async function backlogs(stack: LatencyStack, phones: readonly TimedPhone[]) {
  for (const phone of phones) {
    await stack.stopWorker();
    const sends: TimedSend[] = [];
    for (const command of ['!help', '!ping', '!stats']) sends.push(await phone.send((p) => p.sendText(command)));
    // The daemon has journaled a message once Baileys' receipt for it reached the phone.
    await until(() => sends.every(({ sent }) => stack.sim.receiptsFor(sent.id).length > 0), 'the daemon to receive the backlog', 30_000);
    const { startedAt } = stack.startWorker();
    const answers = await Promise.all(sends.map((sent) => phone.answerTo(sent, 'text', 120_000)));
    const times = answers.map((a) => a.answer.receivedAt - startedAt);
    record('backlog 3 commands: worker start → connected', (await stack.workerConnectedAt()) - startedAt);
    record('backlog 3 commands: worker start → first answer', Math.min(...times));
    record('backlog 3 commands: worker start → last answer', Math.max(...times));
    await stack.settle();
  }
}

const row = (metric: string) => {
  const values = results.get(metric) ?? [];
  const cells = [values.length, percentile(values, 50), percentile(values, 99), Math.max(...values)].map((v) => String(Math.round(v)).padStart(6));
  return `| ${metric.padEnd(48)} | ${cells.join(' | ')} |`;
};
const p = (metric: string, q: number) => Math.round(percentile(results.get(metric) ?? [], q));

const loadBefore = load();
let stack: LatencyStack | undefined;
try {
  const [jpeg, mp4, gif] = await Promise.all([makeJpeg(1280, 960), makeMp4(3, '640x360'), makeMp4(2, '320x240')]);
  stack = await startLatencyStack();
  const s = stack;
  const pool = Array.from({ length: 8 }, (_, i) => s.phone(contact(1, i)));
  const pinger = s.phone(contact(2, 0));
  const senderSets = Array.from({ length: 3 }, (_, set) => Array.from({ length: 4 }, (_, i) => s.phone(contact(3, set * 4 + i))));
  const backlogPhones = Array.from({ length: counts.backlogs }, (_, i) => s.phone(contact(4, i)));

  s.startWorker();
  // Every contact's first message sets up Signal sessions both ways: not what is measured.
  const everyone = [...pool, pinger, ...senderSets.flat(), ...backlogPhones];
  await Promise.all(everyone.map((phone) => phone.ask((ph) => ph.sendText('!ping'), 'text', 180_000)));
  await s.settle();

  await idleSamples(s, pool, 'ping', counts.pings, (ph) => ph.sendText('!ping'), 'text');
  await idleSamples(s, pool, 'image→sticker', counts.images, (ph) => ph.sendMedia('image', jpeg, { caption: '!s', mimetype: 'image/jpeg', width: 1280, height: 960 }), 'sticker');
  await idleSamples(s, pool, 'video→sticker', counts.videos, (ph) => ph.sendMedia('video', mp4, { caption: '!s', seconds: 3, width: 640, height: 360 }), 'sticker');
  await gifRounds(s, pinger, senderSets, gif);
  await backlogs(s, backlogPhones);

  if (s.sim.problems.length > 0 || s.sim.unhandled.length > 0) {
    print(`emulator problems: ${JSON.stringify(s.sim.problems)}; unhandled: ${JSON.stringify(s.sim.unhandled)}`);
  }
  print('');
  print('latency benchmark: emulator (this process), daemon with real Baileys and production pacing, worker (own processes)');
  print('times from the contact phone sending to it decrypting the answer; backlog: from the worker spawn');
  print('');
  print(`| ${'metric'.padEnd(48)} |      n |    p50 |    p99 |    max |`);
  print(`| ${'-'.repeat(48)} | -----: | -----: | -----: | -----: |`);
  for (const metric of results.keys()) print(row(metric));
  print('');
  print(`load average (1 5 15 min): ${loadBefore} at the start, ${load()} at the end`);
  print(
    `latency: ping p50 ${p('ping', 50)} ms, image→sticker p50 ${p('image→sticker', 50)} ms p99 ${p('image→sticker', 99)} ms, ` +
      `video→sticker p50 ${p('video→sticker', 50)} ms, ping behind 12 GIF jobs p99 ${p('ping behind 12 GIF jobs', 99)} ms, ` +
      `backlog 3 commands last answer ${p('backlog 3 commands: worker start → last answer', 50)} ms`,
  );
} catch (err) {
  process.stderr.write(`bench:latency failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n${stack?.tail() ?? ''}\n`);
  process.exitCode = 1;
} finally {
  await stack?.close();
}
