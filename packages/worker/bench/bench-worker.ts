/**
 * `pnpm bench:worker`: how fast the worker moves events and makes stickers on this
 * machine. Prints a table; no assertions (speed is not a test).
 *
 * - replay: journal entries handled per second through a real Socket.IO connection
 *   (validation, dedupe, one SQLite transaction per entry, batched acks)
 * - command round trip: `daemon:status` through the bridge client
 * - image / video → sticker: the router and the real sticker engine (fake bridge)
 */
import path from 'node:path';
import { createStickerEngine } from '@stickerbot/sticker';
import { makeMp4, makePng } from '@stickerbot/sticker/test-kit';
import { createBridgeClient } from '../src/bridge/bridge-client.js';
import { openBotDatabase } from '../src/db/bot-database.js';
import { captureLog, messageEvent, startFakeDaemon, startRouterHarness, tempDir, waitFor } from '../src/test-kit/index.js';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const rows: Array<[string, string, string]> = [];

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
  rows.push([`replay ${count} entries (connect + validate + dedupe + commit)`, `${Math.round(count / seconds)} entries/s`, `${daemon.acks.length} acks sent`]);

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

await benchReplay(5000);
await benchStickers();
console.log('| measurement | result | detail |\n| --- | --- | --- |');
for (const [what, result, detail] of rows) console.log(`| ${what} | ${result} | ${detail} |`);
