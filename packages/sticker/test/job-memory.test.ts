import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStickerEngine, parseWebp, type StickerEngine } from '../src/index.js';
import { fromEnvironment } from '../src/test-kit/index.js';
import { squareWebp, type WebpAnimationFrame, webpAnimationBytes } from './fixtures.js';

const MIB = 1024 * 1024;

let tempDir: string;
let engine: StickerEngine;

beforeAll(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'sticker-job-memory-'));
  engine = createStickerEngine({ ...fromEnvironment(), tempDir, concurrency: 1 });
});

afterAll(async () => {
  await engine.close();
  await rm(tempDir, { recursive: true, force: true });
});

/** An animation on a `side`² canvas: an opaque background, then a small square moving over it. */
async function movingSquare(side: number, frames: number, durationMs: number): Promise<Buffer> {
  const background = await squareWebp(side, { r: 40, g: 160, b: 90, alpha: 1 }, false);
  const square = await squareWebp(32, { r: 20, g: 30, b: 60, alpha: 1 }, true);
  const list: WebpAnimationFrame[] = [{ still: background, x: 0, y: 0, durationMs, blend: false, dispose: false }];
  for (let i = 1; i < frames; i += 1) {
    const step = 2 * Math.floor(((side - 32) * i) / frames / 2);
    list.push({ still: square, x: step, y: step, durationMs, blend: true, dispose: false });
  }
  return webpAnimationBytes({ width: side, height: side }, list);
}

/** Peak growth of this process's RSS while `run` runs (ffmpeg children not included). */
async function rssGrowth(run: () => Promise<unknown>): Promise<number> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage.rss()) - before;
}

describe('memory of a job', () => {
  it('turns a 300-frame animated sticker into a video one canvas at a time (the whole decode would be 300 MB)', async () => {
    const webp = await movingSquare(512, 300, 33);
    expect(webp.length).toBeLessThan(100_000);
    const growth = await rssGrowth(() => engine.toImage(webp));
    expect(growth / MIB).toBeLessThan(150);
  }, 60_000);

  it('makes a sticker from a 1024² animated WebP of 100 frames, which does not fit maxInputPixels when decoded whole', async () => {
    const webp = await movingSquare(1024, 100, 100);
    const growth = await rssGrowth(async () => {
      const sticker = await engine.toSticker(webp);
      expect(parseWebp(sticker.data).frames.length).toBeGreaterThan(50);
    });
    expect(growth / MIB).toBeLessThan(250);
  }, 60_000);
});
