/**
 * `pnpm bench:worker`: how fast the worker moves events and makes stickers on this
 * machine. Prints a table and one line; no assertions (speed is not a test).
 *
 * - replay through the whole worker (`createWorker`: bridge client, router, bot database)
 *   from a fake daemon's journal, connect included, in two mixes: plain group chatter
 *   (what most of a group's backlog is) and commands (`!ping` and `!help` from distinct
 *   contacts, each answered through the bridge)
 * - replay through the bridge client alone (a no-op handler): validation, dedupe, one
 *   SQLite transaction per entry, batched acks; the ceiling for the two above
 * - command round trip: `daemon:status` through the bridge client
 * - image / video → sticker: the router and the real sticker engine (fake bridge)
 * - near-duplicate lookup in a catalogue of 100,000 stickers (the hash-band index)
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { BotEvent } from '@stickerbot/protocol';
import { createStickerEngine } from '@stickerbot/sticker';
import { makeMp4, makePng } from '@stickerbot/sticker/test-kit';
import { createBridgeClient } from '../src/bridge/bridge-client.js';
import { loadConfig } from '../src/config.js';
import { openBotDatabase } from '../src/db/bot-database.js';
import { createWorker } from '../src/worker.js';
import { captureLog, messageEvent, startFakeDaemon, startRouterHarness, tempDir, waitFor } from '../src/test-kit/index.js';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const rows: Array<[string, string, string]> = [];

/** Events a second the real worker handles when it resumes with `events` waiting in the journal. */
async function workerReplay(events: readonly BotEvent[]): Promise<number> {
  await using daemon = await startFakeDaemon();
  using dir = tempDir();
  for (const [i, event] of events.entries()) daemon.journal.push({ seq: i + 1, sessionId: 'default', ts: Date.now(), event });
  const config = loadConfig({ STICKERBOT_BRIDGE_URL: daemon.url, STICKERBOT_TOKEN: daemon.token, STICKERBOT_DATA_DIR: dir.path });
  const stickers = createStickerEngine();
  const worker = createWorker({ log: captureLog('silent').log, stickers }, config);
  const started = performance.now();
  worker.start();
  await waitFor(() => worker.db.progress.position() === events.length, 300_000, 'replay');
  const perSecond = events.length / ((performance.now() - started) / 1000);
  await worker.stop(1000);
  await stickers.close();
  return Math.round(perSecond);
}

async function benchWorkerReplay(plainCount: number, commandCount: number): Promise<{ plain: number; commands: number }> {
  const group = '120363000000000001@g.us';
  const plain = Array.from({ length: plainCount }, (_, i) =>
    messageEvent({ text: `chatter ${i}`, isGroup: true, chat: group, sender: `49152${String(i % 50).padStart(8, '0')}@s.whatsapp.net` }),
  );
  // Distinct contacts, so no command meets the rate limit.
  const commands = Array.from({ length: commandCount }, (_, i) => {
    const contact = `49153${String(i).padStart(8, '0')}@s.whatsapp.net`;
    return messageEvent({ text: i % 2 === 0 ? '!ping' : '!help', chat: contact, sender: contact });
  });
  const result = { plain: await workerReplay(plain), commands: await workerReplay(commands) };
  rows.push([`replay ${plainCount} plain group messages (whole worker, connect included)`, `${result.plain} events/s`, 'router, dedupe, commit, acks']);
  rows.push([`replay ${commandCount} commands (!ping, !help; whole worker)`, `${result.commands} events/s`, 'each answered through the bridge']);
  return result;
}

async function benchReplay(count: number): Promise<void> {
  await using daemon = await startFakeDaemon();
  using dir = tempDir();
  for (let i = 0; i < count; i++) daemon.journal.push({ seq: i + 1, sessionId: 'default', ts: Date.now(), event: messageEvent({ text: `chatter ${i}`, isGroup: true, chat: '120363000000000001@g.us' }) });
  const db = openBotDatabase(path.join(dir.path, 'worker.sqlite'), 'bot');
  const client = createBridgeClient({
    url: daemon.url,
    token: () => daemon.token,
    tokenHint: 'bench',
    group: 'bot',
    progress: db.progress,
    log: captureLog('silent').log,
    handle: () => Promise.resolve(),
  });
  const started = performance.now();
  client.start();
  await waitFor(() => db.progress.position() === count, 120_000, 'replay');
  const seconds = (performance.now() - started) / 1000;
  await waitFor(() => daemon.acks.at(-1) === count, 10_000, 'last ack');
  rows.push([`replay ${count} entries, bridge client alone (connect + validate + dedupe + commit)`, `${Math.round(count / seconds)} entries/s`, `${daemon.acks.length} acks sent`]);

  const latencies: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t = performance.now();
    await client.command('daemon:status', { id: `bench.${i}` });
    latencies.push(performance.now() - t);
  }
  rows.push(['command round trip (daemon:status, loopback)', `p50 ${percentile(latencies, 50).toFixed(2)} ms`, `p95 ${percentile(latencies, 95).toFixed(2)} ms`]);
  await client.stop(1000);
  db.close();
}

async function benchStickers(): Promise<void> {
  const stickers = createStickerEngine();
  await using h = startRouterHarness({ STICKERBOT_MAX_MEDIA_MB: '16' }, stickers);
  const png = await makePng(1280, 960);
  const mp4 = await makeMp4(3, '640x360');
  for (const [label, data, kind, mimetype, runs] of [
    ['image 1280×960 PNG → sticker (router + engine)', png, 'image', 'image/png', 15],
    ['video 3 s 640×360 MP4 → animated sticker', mp4, 'video', 'video/mp4', 4],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const id = `BENCH${kind}${i}`.toUpperCase();
      h.bridge.media.set(id, { data, mimetype });
      h.clock.now += 60_000; // stay clear of the rate limit
      const t = performance.now();
      await h.send({ id, kind, text: '!s', media: { mimetype, size: data.byteLength } });
      times.push(performance.now() - t);
    }
    rows.push([label, `p50 ${Math.round(percentile(times, 50))} ms`, `max ${Math.round(Math.max(...times))} ms (${runs} runs)`]);
  }
  await stickers.close();
}

/** A 16-hex-digit hash `bits` bits away from `hash`. */
function flipBits(hash: string, bits: number): string {
  let value = BigInt(`0x${hash}`);
  for (let i = 0; i < bits; i++) value ^= 1n << BigInt((i * 23 + 5) % 64);
  return value.toString(16).padStart(16, '0');
}

function benchDuplicateLookup(count: number): void {
  using dir = tempDir();
  const db = openBotDatabase(path.join(dir.path, 'worker.sqlite'), 'bot');
  const hashes: string[] = [];
  const fill = db.db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const phash = randomBytes(8).toString('hex');
      hashes.push(phash);
      // Every sticker in one chat and tagged: the worst case of what one chat may see.
      db.catalogue.add({ data: randomBytes(32), animated: false, creator: 'bench', chat: 'bench@g.us', phash, tags: [i % 7 === 0 ? '😂' : 'cat'] });
    }
  });
  fill();
  const stored = db.catalogue.totals().stickers;
  const times: number[] = [];
  let found = 0;
  for (let i = 0; i < 2000; i++) {
    // Half near duplicates of catalogued stickers (3 bits off), half new pictures.
    const probe = i % 2 === 0 ? flipBits(hashes[(i * 7919) % hashes.length] ?? '', 3) : randomBytes(8).toString('hex');
    const t = performance.now();
    if (db.catalogue.nearDuplicate(probe, false) !== undefined) found += 1;
    times.push(performance.now() - t);
  }
  const timed = (run: () => unknown): number => {
    const t = performance.now();
    run();
    return performance.now() - t;
  };
  const scope = { chat: 'bench@g.us' };
  const queries = [
    `!top ${timed(() => db.catalogue.top(5, scope)).toFixed(0)} ms`,
    `!find 😂 ${timed(() => db.catalogue.search(['😂'], scope, 3)).toFixed(0)} ms`,
    `!random ${timed(() => db.catalogue.pick(12345, scope)).toFixed(0)} ms`,
  ];
  db.close();
  rows.push([`catalogue queries, one chat seeing all ${stored} stickers`, queries.join(', '), 'covering index, hashes sorted, bytes read for the winners only']);
  rows.push([
    `near-duplicate lookup, ${stored} catalogued stickers (4 hash bands)`,
    `p50 ${percentile(times, 50).toFixed(3)} ms`,
    `p95 ${percentile(times, 95).toFixed(3)} ms; ${found}/2000 found (1000 were near duplicates)`,
  ]);
}

const replay = await benchWorkerReplay(20_000, 2_000);
await benchReplay(5000);
await benchStickers();
benchDuplicateLookup(100_000);
console.log('| measurement | result | detail |\n| --- | --- | --- |');
for (const [what, result, detail] of rows) console.log(`| ${what} | ${result} | ${detail} |`);
console.log(`\nreplay: plain ${replay.plain} ev/s, commands ${replay.commands} ev/s`);
