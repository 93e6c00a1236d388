// Runs against whichever ffmpeg the engine chooses; CI runs this file once with Debian's
// ffmpeg on PATH and once with FFMPEG_PATH set to the bundled 2018 build.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStickerRules, createStickerEngine, type StickerEngine, type StickerResult, type StickerShape } from '../src/index.js';
import { fromEnvironment, makeGif, makeVideo } from '../src/test-kit/index.js';

let engine: StickerEngine;
let tempDir: string;
const inputs: Record<string, Buffer> = {};

beforeAll(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'sticker-compat-'));
  // A graph that never ends fails here as TIMEOUT well inside the test's own deadline.
  engine = createStickerEngine({ ...fromEnvironment(), tempDir, concurrency: 2, ffmpegTimeoutMs: 30_000 });
  const [gif, mp4, long] = await Promise.all([
    makeGif(160, 120, 12, 100),
    makeVideo({ seconds: 2, width: 320, height: 180, audio: true }),
    // Over 5 s: the sample pass seeks (-ss) into the clip with the mask as a second input.
    makeVideo({ seconds: 6, width: 160, height: 120, fps: 10 }),
  ]);
  Object.assign(inputs, { GIF: gif, MP4: mp4, 'MP4 of 6 s': long });
}, 120_000);

afterAll(async () => {
  await engine.close();
  await rm(tempDir, { recursive: true, force: true });
});

async function alphaAt(sticker: StickerResult, x: number, y: number): Promise<number> {
  const { data, info } = await sharp(sticker.data).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return data[(y * info.width + x) * info.channels + 3]!;
}

describe('the ffmpeg the engine runs', () => {
  it('reports which binary it runs, its version and why', async () => {
    const binary = await engine.ffmpeg();
    expect(binary.path).not.toBe('');
    expect(binary.version).not.toBe('unknown');
    expect(binary.reason.length).toBeGreaterThan(10);
    expect(binary.missing).toEqual([]);
    const named = fromEnvironment().ffmpegPath;
    expect(named === undefined ? ['path', 'bundled'] : ['option']).toContain(binary.source);
    if (named !== undefined) expect(binary.path).toBe(named);
  });

  const seconds: Record<string, number> = { GIF: 1.2, MP4: 2, 'MP4 of 6 s': 6 };
  for (const kind of ['GIF', 'MP4', 'MP4 of 6 s']) {
    it(`ends circle and rounded animated stickers from a ${kind} with the timing of fit`, { timeout: 120_000 }, async () => {
      const shapes: StickerShape[] = ['fit', 'circle', 'rounded'];
      const [fit, ...masked] = await Promise.all(shapes.map((shape) => engine.toSticker(inputs[kind]!, { shape })));
      // Within one frame (at most 100 ms) of the input's length, with every binary.
      expect(Math.abs(fit!.durationMs - seconds[kind]! * 1000)).toBeLessThanOrEqual(100);
      for (const sticker of masked) {
        expect(checkStickerRules(sticker.data)).toEqual([]);
        expect(sticker.animated).toBe(true);
        // A looped mask that keeps the graph running adds frames (or never ends); the mask must not change the timing.
        expect(sticker.durationMs).toBe(fit!.durationMs);
        expect(await alphaAt(sticker, 0, 0)).toBe(0);
        expect(await alphaAt(sticker, 256, 256)).toBe(255);
      }
      expect(await readdir(tempDir)).toEqual([]);
    });
  }
});
