/**
 * End to end: the real worker against the real daemon over loopback, with the daemon's
 * fake WhatsApp socket, real sharp and ffmpeg. The worker runs in-process for the
 * command round trips and as a child process for the kill-and-restart test.
 */
import { createDaemon, loadConfig as loadDaemonConfig } from '@stickerbot/daemon';
import { createFakeWa, type FakeSent } from '@stickerbot/daemon/test-kit';
import { createStickerEngine, readStickerMetadata, type StickerEngine } from '@stickerbot/sticker';
import { createLogger } from '@stickerbot/runtime';
import { createWorker, loadConfig } from '@stickerbot/worker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { corruptJpeg, makeMp4, makePng } from '@stickerbot/sticker/test-kit';
import { spawnWorker } from '../scripts/support/worker-process.js';
import { bytesOf, fakeWaStack, kindOf, LOG_LEVEL, login, textOf, waitUntil, type Cleanups } from './support/fake-wa-stack.js';

const ALICE = '4915100000001';

describe('worker ↔ daemon end to end', { timeout: 120_000 }, () => {
  const cleanups: Cleanups = [];
  let stickers: StickerEngine;
  let png: Buffer;
  let mp4: Buffer;
  const { tempDir, startDaemon, startWorker } = fakeWaStack(cleanups, () => stickers);

  beforeAll(async () => {
    stickers = createStickerEngine({ concurrency: 2 });
    [png, mp4] = await Promise.all([makePng(), makeMp4(1)]);
  }, 60_000);
  afterAll(() => stickers.close());
  afterEach(async () => {
    for (const step of cleanups.splice(0).reverse()) await step();
  });

  it('turns an image into a valid sticker, quick work answered with no reactions', async () => {
    const running = await startDaemon();
    // A progress delay no conversion here reaches: the quick path, whatever the machine's load.
    startWorker(running, { STICKERBOT_PACK: 'E2E Pack', STICKERBOT_AUTHOR: 'E2E', STICKERBOT_PROGRESS_DELAY_MS: '60000' });
    const received = running.session.receiveImage({ from: ALICE, data: png, mimetype: 'image/png', caption: '!sticker' });
    await running.session.waitForSent(1);
    await new Promise((resolve) => setTimeout(resolve, 200)); // room for a stray ✅ to show up
    const sent = running.session.sent;
    expect(sent.map(kindOf)).toEqual(['sticker']);
    expect(sent[0]?.options?.quoted?.key).toEqual(received.key);
    const sticker = bytesOf(sent[0], 'sticker');
    const info = await stickers.info(sticker);
    expect(info).toMatchObject({ width: 512, height: 512, animated: false });
    expect(info.bytes).toBeLessThanOrEqual(100_000);
    expect(readStickerMetadata(sticker)).toMatchObject({ packName: 'E2E Pack', publisher: 'E2E' });
  });

  it('turns a video into an animated sticker, with ⏳ then ✅ for work past the progress delay, without spacing the replies', async () => {
    const running = await startDaemon();
    startWorker(running, { STICKERBOT_PROGRESS_DELAY_MS: '0' });
    running.session.receiveVideo({ from: ALICE, data: mp4, caption: '!s', seconds: 1 });
    const sent = await running.session.waitForSent(3);
    expect(sent.map(kindOf)).toEqual(['react:⏳', 'sticker', 'react:✅']);
    // Replies to the user's own message, within the chat's burst budget: the ✅ does not wait
    // out the 1 s chat gap behind the sticker (paced, it would come 1 s or more later).
    expect((sent[2]?.at ?? 0) - (sent[1]?.at ?? 0)).toBeLessThan(1_000);
    const info = await stickers.info(bytesOf(sent[1], 'sticker'));
    expect(info).toMatchObject({ width: 512, height: 512, animated: true });
    // No STICKERBOT_AUTHOR: the author is the bot account's name, learned from session:list.
    expect(info.metadata).toMatchObject({ packName: 'stickerbot', publisher: 'bot' });
    expect(info.frames).toBeGreaterThan(1);
  });

  it('round-trips a received sticker through !toimg and !take', async () => {
    const running = await startDaemon();
    startWorker(running, { STICKERBOT_PROGRESS_DELAY_MS: '0' });
    const theirs = await stickers.toSticker(png, { pack: 'Theirs', author: 'Bob' });
    const received = running.session.receiveSticker({ from: ALICE, data: theirs.data });
    const quoted = { quotedId: received.key.id ?? '', quotedMessage: received.message ?? undefined };

    running.session.receiveText({ from: ALICE, text: '!toimg', ...quoted });
    const afterToimg = await running.session.waitForSent(3);
    expect(afterToimg.map(kindOf)).toEqual(['react:⏳', 'image', 'react:✅']);
    const image = bytesOf(afterToimg[1], 'image');
    expect(image.subarray(1, 4).toString('latin1')).toBe('PNG');

    running.session.receiveText({ from: ALICE, text: '!take Mine | Alice', ...quoted });
    const afterTake = await running.session.waitForSent(6);
    expect(afterTake.slice(3).map(kindOf)).toEqual(['react:⏳', 'sticker', 'react:✅']);
    expect(readStickerMetadata(bytesOf(afterTake[4], 'sticker'))).toMatchObject({ packName: 'Mine', publisher: 'Alice' });

    // And the image the bot made goes back into a sticker.
    running.session.receiveImage({ from: ALICE, data: image, mimetype: 'image/png', caption: '!s' });
    const last = await running.session.waitForSent(9);
    expect(kindOf(last[7] as FakeSent)).toBe('sticker');
  });

  it('answers oversized and corrupt media in plain words and keeps going', async () => {
    const running = await startDaemon();
    startWorker(running, { STICKERBOT_MAX_MEDIA_MB: '1', STICKERBOT_PROGRESS_DELAY_MS: '0' });
    running.session.receiveImage({ from: ALICE, data: png, declaredSize: 50 * 1024 * 1024, caption: '!s' });
    const first = await running.session.waitForSent(1);
    expect(textOf(first[0])).toBe('That file is too large (the limit is 1 MB).');
    expect(running.session.calls.some((call) => call.method === 'downloadMedia')).toBe(false);

    running.session.receiveImage({ from: ALICE, data: corruptJpeg(), mimetype: 'image/jpeg', caption: '!s' });
    const second = await running.session.waitForSent(4);
    expect(second.slice(1).map(kindOf)).toEqual(['react:⏳', 'text', 'react:❌']);
    expect(textOf(second[2])).toMatch(/damaged|can't make a sticker/);

    running.session.receiveText({ from: ALICE, text: '!ping' });
    const third = await running.session.waitForSent(5);
    expect(textOf(third[4])).toMatch(/^pong 🏓/);
  });

  it('logs a refused token clearly and keeps retrying', async () => {
    const running = await startDaemon();
    const lines: string[] = [];
    const config = loadConfig({ STICKERBOT_BRIDGE_URL: running.url, STICKERBOT_DATA_DIR: tempDir(), STICKERBOT_TOKEN: 'not-the-token', LOG_LEVEL: 'info' });
    const log = createLogger({ service: 'stickerbot-worker', level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    const worker = createWorker({ log, stickers, bridge: { backoff: { baseMs: 20, capMs: 100 } } }, config);
    cleanups.push(() => worker.stop(1000).then(() => undefined));
    worker.start();
    await waitUntil(() => lines.filter((line) => line.includes('refused the token (UNAUTHORIZED)')).length >= 2, 'two refusals');
    expect(worker.bridge.connected).toBe(false);
  });

  it('reconnects to a restarted daemon and carries on from its position', async () => {
    const running = await startDaemon();
    const worker = startWorker(running);
    running.session.receiveText({ from: ALICE, text: '!ping' });
    await running.session.waitForSent(1);
    await waitUntil(() => worker.db.progress.position() > 0, 'first commit');
    const port = new URL(running.url).port;
    await running.daemon.stop();

    const wa = createFakeWa();
    const config = loadDaemonConfig({ STICKERBOT_DATA_DIR: running.dataDir, STICKERBOT_PORT: port, STICKERBOT_SESSIONS: 'main', LOG_LEVEL });
    const daemon = createDaemon({ logger: createLogger({ service: 'stickerbot-daemon', level: config.logLevel }), socketFactory: wa.factory, processMetrics: false }, config);
    cleanups.push(() => daemon.stop());
    await daemon.start();
    const session = wa.session('main');
    await login(session);
    await waitUntil(() => worker.bridge.connected, 'reconnect');
    session.receiveText({ from: ALICE, text: '!ping' });
    const sent = await session.waitForSent(1);
    expect(textOf(sent[0])).toMatch(/^pong 🏓/);
    expect(running.session.sent).toHaveLength(1);
  });

  it('handles an event exactly once when the worker process is killed between receiving and acknowledging it', async () => {
    const running = await startDaemon();
    const workerDir = tempDir();
    const env = { STICKERBOT_BRIDGE_URL: running.url, STICKERBOT_TOKEN: running.token, STICKERBOT_DATA_DIR: workerDir, STICKERBOT_PROGRESS_DELAY_MS: '0' };
    const first = spawnWorker(env);
    cleanups.push(async () => first[Symbol.asyncDispose]());
    await first.waitForLog('connected to the daemon');

    running.session.receiveImage({ from: ALICE, data: png, mimetype: 'image/png', caption: '!s' });
    // The ⏳ reaction is the worker's first command: it has the event but cannot have
    // committed it (the sticker is not made yet). Kill it right there.
    await running.session.waitForSent(1);
    first.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    const second = spawnWorker(env);
    cleanups.push(async () => second[Symbol.asyncDispose]());
    await running.session.waitForSent(3);
    await second.waitForLog('acknowledged');
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(running.session.sent.map(kindOf)).toEqual(['react:⏳', 'sticker', 'react:✅']);
  });
});
