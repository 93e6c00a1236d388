import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStickerEngine, isStickerError, type StickerEngine, type StickerErrorCode, type StickerOptions } from '../src/index.js';
import { makeAudioOnly, makeHourLongVideo, pngHeader, screenBombGif } from './fixtures.js';
import { fromEnvironment, makeAnimatedWebp, makeGif, makeJpeg, makePngWithAlpha, makeVideo } from '../src/test-kit/index.js';

/** Generous: this catches hangs, it does not measure speed. */
const QUICKLY_MS = 15_000;
/** A refusal read from the header takes milliseconds; this only catches one that decodes first. */
const FROM_THE_HEADER_MS = 5_000;

let tempDir: string;
let engine: StickerEngine;
const inputs: Record<string, Buffer> = {};

beforeAll(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'sticker-hostile-'));
  engine = createStickerEngine({ ...fromEnvironment(), tempDir, concurrency: 2 });
  const [jpeg, png, mp4, hour, audio, heavy] = await Promise.all([
    makeJpeg(800, 600),
    makePngWithAlpha(400, 400),
    makeVideo({ seconds: 2, width: 320, height: 240 }),
    makeHourLongVideo(),
    makeAudioOnly(),
    makeVideo({ seconds: 6, width: 640, height: 360, source: 'mandelbrot' }),
  ]);
  Object.assign(inputs, { jpeg, png, mp4, hour, audio, heavy });
}, 120_000);

afterAll(async () => {
  await engine.close();
  await rm(tempDir, { recursive: true, force: true });
});

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

async function expectFailure(
  run: () => Promise<unknown>,
  code: StickerErrorCode,
): Promise<{ elapsedMs: number; details: Readonly<Record<string, unknown>> }> {
  const started = performance.now();
  try {
    await run();
  } catch (err) {
    const elapsedMs = performance.now() - started;
    expect(isStickerError(err) ? err.code : err).toBe(code);
    expect(elapsedMs).toBeLessThan(QUICKLY_MS);
    expect(await readdir(tempDir)).toEqual([]);
    return { elapsedMs, details: isStickerError(err) ? err.details : {} };
  }
  throw new Error(`expected ${code}, but the call succeeded`);
}

const sticker = (input: Buffer, options?: StickerOptions) => () => engine.toSticker(input, options);

describe('hostile input', () => {
  it('refuses an empty input with EMPTY_INPUT', async () => {
    await expectFailure(sticker(Buffer.alloc(0)), 'EMPTY_INPUT');
  });

  it('refuses PDFs, BMPs and text with UNSUPPORTED_FORMAT', async () => {
    await expectFailure(sticker(Buffer.from('%PDF-1.7\n1 0 obj\n')), 'UNSUPPORTED_FORMAT');
    await expectFailure(sticker(Buffer.concat([Buffer.from('BM'), Buffer.alloc(100)])), 'UNSUPPORTED_FORMAT');
    await expectFailure(sticker(Buffer.from('just some words')), 'UNSUPPORTED_FORMAT');
  });

  it('reports garbage behind a valid magic number as CORRUPT_INPUT', async () => {
    const noise = Buffer.alloc(4096, 0x5a);
    await expectFailure(sticker(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), noise])), 'CORRUPT_INPUT');
    await expectFailure(sticker(Buffer.concat([Buffer.from('RIFF\x00\x10\x00\x00WEBPVP8 ', 'latin1'), noise])), 'CORRUPT_INPUT');
    await expectFailure(sticker(Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), noise])), 'CORRUPT_INPUT');
    await expectFailure(sticker(Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), noise])), 'CORRUPT_INPUT');
  });

  it('reports truncated JPEG, PNG and MP4 files as CORRUPT_INPUT', async () => {
    const half = (b: Buffer): Buffer => b.subarray(0, Math.floor(b.length / 2));
    await expectFailure(sticker(half(inputs.jpeg!)), 'CORRUPT_INPUT');
    await expectFailure(sticker(half(inputs.png!)), 'CORRUPT_INPUT');
    // The MP4 index (moov) sits at the end, so the first half cannot be played at all.
    await expectFailure(sticker(half(inputs.mp4!)), 'CORRUPT_INPUT');
  });

  it('refuses a 30,000×30,000 image from its header with TOO_MANY_PIXELS', async () => {
    const { elapsedMs } = await expectFailure(sticker(pngHeader(30_000, 30_000)), 'TOO_MANY_PIXELS');
    expect(elapsedMs).toBeLessThan(QUICKLY_MS);
  });

  it('refuses GIFs whose logical screen is 16,000², 30,000² or 65,535² around 1×1 frames with TOO_MANY_PIXELS, from the header', async () => {
    for (const side of [16_000, 30_000, 65_535]) {
      const bomb = screenBombGif(side, side, 50);
      expect(bomb.length).toBeLessThan(10_000);
      const { elapsedMs, details } = await expectFailure(sticker(bomb), 'TOO_MANY_PIXELS');
      expect(elapsedMs).toBeLessThan(FROM_THE_HEADER_MS);
      expect(details).toMatchObject({ width: side, height: side });
    }
  });

  it('refuses a GIF whose canvas × frames is too much to decode (4000×4000, 5,000 frames) with TOO_MANY_PIXELS, from the header', async () => {
    const { elapsedMs, details } = await expectFailure(sticker(screenBombGif(4000, 4000, 5000)), 'TOO_MANY_PIXELS');
    expect(elapsedMs).toBeLessThan(FROM_THE_HEADER_MS);
    // Only the frames inside the sticker's 9.9 s are counted: 495 of 20 ms.
    expect(details).toMatchObject({ width: 4000, height: 4000, frames: 495 });
  });

  it('refuses an animated WebP whose canvas is 16,000×16,000 with TOO_MANY_PIXELS, from the VP8X header', async () => {
    const webp = Buffer.from(await makeAnimatedWebp(64, 64, [100, 100, 100]));
    expect(webp.toString('latin1', 12, 16)).toBe('VP8X');
    webp.writeUIntLE(16_000 - 1, 24, 3);
    webp.writeUIntLE(16_000 - 1, 27, 3);
    const { elapsedMs } = await expectFailure(sticker(webp), 'TOO_MANY_PIXELS');
    expect(elapsedMs).toBeLessThan(FROM_THE_HEADER_MS);
  });

  it('decodes a 9500×9500 GIF of two 1×1 frames in process without touching its whole screen (no ffmpeg, no 361 MB canvas in memory)', async () => {
    // Within maxInputPixels and maxAnimationPixels: ffmpeg decoded it into 361 MB canvases.
    // The decoder's canvas is allocated zeroed and only the frames' pixels are written and resized.
    const before = process.memoryUsage().rss;
    const started = performance.now();
    const sticker = await engine.toSticker(screenBombGif(9500, 9500, 2, 10));
    expect(performance.now() - started).toBeLessThan(QUICKLY_MS);
    expect(sticker.bytes).toBeGreaterThan(0);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
  });

  it('reports a GIF whose image data is cut short, or whose LZW data is broken, as CORRUPT_INPUT', async () => {
    const gif = screenBombGif(64, 64, 4, 10);
    await expectFailure(sticker(gif.subarray(0, gif.length - 30)), 'CORRUPT_INPUT');
    const badCodeSize = Buffer.from(gif);
    // The last image's LZW minimum code size byte (gifBytes writes 8).
    badCodeSize[badCodeSize.lastIndexOf(Buffer.from([0x2c, 1, 0, 0, 0, 1, 0, 1, 0, 0])) + 10] = 11;
    await expectFailure(sticker(badCodeSize), 'CORRUPT_INPUT');
  });

  it('refuses an hour-long video with VIDEO_TOO_LONG before encoding it', async () => {
    await expectFailure(sticker(inputs.hour!), 'VIDEO_TOO_LONG');
  });

  it('refuses a file with only an audio track with NO_VIDEO_STREAM', async () => {
    await expectFailure(sticker(inputs.audio!), 'NO_VIDEO_STREAM');
  });

  it('refuses inputs over maxInputBytes with INPUT_TOO_LARGE', async () => {
    const small = createStickerEngine({ ...fromEnvironment(), tempDir, maxInputBytes: 1000 });
    await expectFailure(() => small.toSticker(inputs.png!), 'INPUT_TOO_LARGE');
    await small.close();
  });
});

describe('deadlines, cancellation and shutdown', () => {
  it('kills ffmpeg past its deadline and reports TIMEOUT', async () => {
    const strict = createStickerEngine({ ...fromEnvironment(), tempDir, ffmpegTimeoutMs: 150 });
    const { details } = await expectFailure(() => strict.toSticker(inputs.heavy!), 'TIMEOUT');
    expect(typeof details.pid).toBe('number');
    expect(processGone(details.pid as number)).toBe(true);
    await strict.close();
  });

  it('stops decoding a GIF past the deadline and reports TIMEOUT (no ffmpeg runs for GIFs)', async () => {
    // 100 frames take tens of milliseconds to decode even on a fast machine: far past 1 ms.
    const gif = await makeGif(240, 180, 100, 20);
    const strict = createStickerEngine({ ...fromEnvironment(), tempDir, ffmpegTimeoutMs: 1 });
    const { details } = await expectFailure(() => strict.toSticker(gif), 'TIMEOUT');
    expect(details.framesDecoded).toBeGreaterThan(0);
    expect(details.framesDecoded).toBeLessThan(100);
    await strict.close();
  }, 60_000);

  it('kills a running ffmpeg when the signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user cancelled')), 300);
    const { details } = await expectFailure(sticker(inputs.heavy!, { signal: controller.signal }), 'ABORTED');
    if (typeof details.pid === 'number') expect(processGone(details.pid)).toBe(true);
  });

  it('never starts a job whose signal has already fired', async () => {
    await expectFailure(sticker(inputs.png!, { signal: AbortSignal.abort() }), 'ABORTED');
  });

  it('finishes running jobs on close, then refuses new ones with CLOSED', async () => {
    const closing = createStickerEngine({ ...fromEnvironment(), tempDir });
    const running = closing.toSticker(inputs.mp4!);
    await closing.close();
    expect((await running).animated).toBe(true);
    await expectFailure(() => closing.toSticker(inputs.png!), 'CLOSED');
    await expectFailure(() => closing.fromText('hi'), 'CLOSED');
  });

  it('starts a new spawn helper when its helper was killed from outside, and kills it on close', async () => {
    const own = createStickerEngine({ ...fromEnvironment(), tempDir });
    const helperPids = (): number[] =>
      readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number)
        .filter((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes("require('node:child_process')");
          } catch {
            return false;
          }
        });
    const before = new Set(helperPids());
    expect((await own.toSticker(inputs.mp4!)).animated).toBe(true);
    const [first] = helperPids().filter((pid) => !before.has(pid));
    expect(first).toBeTypeOf('number');
    process.kill(first!, 'SIGKILL');
    for (let i = 0; i < 100 && !processGone(first!); i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await own.toSticker(inputs.mp4!)).animated).toBe(true);
    const [second] = helperPids().filter((pid) => !before.has(pid));
    expect(second).toBeTypeOf('number');
    expect(second).not.toBe(first);
    await own.close();
    for (let i = 0; i < 100 && !processGone(second!); i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(processGone(second!)).toBe(true);
  }, 60_000);

  it('reports a missing ffmpeg binary as FFMPEG_FAILED', async () => {
    const broken = createStickerEngine({ ...fromEnvironment(), tempDir, ffmpegPath: join(tempDir, 'no-such-ffmpeg') });
    await expectFailure(() => broken.toSticker(inputs.mp4!), 'FFMPEG_FAILED');
    await broken.close();
  });
});
