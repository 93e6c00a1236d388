import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStickerEngine, type StickerEngine } from '../src/index.js';
import { parseProbe } from '../src/probe-media.js';
import { fromEnvironment, makeVp9AlphaWebm } from '../src/test-kit/index.js';

let engine: StickerEngine;
beforeAll(() => {
  engine = createStickerEngine({ ...fromEnvironment(), concurrency: 1 });
});
afterAll(() => engine.close());

/** The RGBA of frame `page` of an animated WebP at (x, y). */
async function pixel(webp: Buffer, page: number, x: number, y: number): Promise<number[]> {
  const raw = await sharp(webp, { page }).ensureAlpha().extract({ left: x, top: y, width: 1, height: 1 }).raw().toBuffer();
  return [...raw];
}

describe('Telegram video stickers (WebM, VP9 with alpha)', { timeout: 60_000 }, () => {
  it('become animated stickers whose transparent corner stays transparent', async () => {
    const webm = await makeVp9AlphaWebm(1);
    const ffmpeg = await engine.ffmpeg();
    if (!ffmpeg.libvpx) {
      // Without libvpx the VP9 alpha plane cannot be decoded at all; say so rather than pass silently.
      throw new Error(`the test ffmpeg (${ffmpeg.path}) has no libvpx`);
    }
    const sticker = await engine.toSticker(webm);
    expect(sticker.animated).toBe(true);
    const [corner, square] = await Promise.all([pixel(sticker.data, 0, 5, 5), pixel(sticker.data, 0, 140, 256)]);
    expect(corner[3]).toBe(0);
    expect(square[3]).toBe(255);
    expect(square[2]).toBeGreaterThan(150);
  });

  it('reads the alpha flag of a VP9 stream from ffmpeg\'s summary, and only there', () => {
    const stderr = [
      "Input #0, matroska,webm, from 'a.webm':",
      '  Duration: 00:00:01.00, start: 0.000000, bitrate: 9 kb/s',
      '  Stream #0:0: Video: vp9 (Profile 0), yuv420p(tv, progressive), 512x512, SAR 1:1 DAR 1:1, 30 fps, 30 tbr, 1k tbn',
      '    Metadata:',
      '      alpha_mode      : 1',
    ].join('\n');
    expect(parseProbe(stderr).video).toEqual({ width: 512, height: 512, fps: 30, vp9Alpha: true });
    expect(parseProbe(stderr.replace('alpha_mode      : 1', 'ENCODER : x')).video).toEqual({ width: 512, height: 512, fps: 30 });
    expect(parseProbe(stderr.replace('vp9 (Profile 0)', 'vp8')).video?.vp9Alpha).toBeUndefined();
  });
});
