import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkStickerRules,
  createStickerEngine,
  parseWebp,
  readStickerMetadata,
  webpImageData,
  type StickerEngine,
  type StickerShape,
} from '../src/index.js';
import { fromEnvironment, makeAnimatedWebp, makeGif, makeJpeg, makePngWithAlpha, makeVideo } from '../src/test-kit/index.js';

const SHAPES: StickerShape[] = ['fit', 'crop', 'circle', 'rounded'];

let engine: StickerEngine;
let tempDir: string;
const inputs: Record<string, { data: Buffer; animated: boolean }> = {};

beforeAll(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'sticker-conv-'));
  engine = createStickerEngine({ ...fromEnvironment(), tempDir, concurrency: 2 });
  const [jpeg, png, webp, gif1, gif, awebp, mp4, mov, webm] = await Promise.all([
    makeJpeg(1200, 800),
    makePngWithAlpha(700, 500),
    sharp(await makePngWithAlpha(300, 300)).webp().toBuffer(),
    makeGif(120, 90, 1),
    makeGif(160, 120, 8, 120),
    makeAnimatedWebp(200, 150, [80, 0, 120, 60]),
    makeVideo({ seconds: 1.5, width: 320, height: 180, audio: true }),
    makeVideo({ seconds: 1, width: 240, height: 320, container: 'mov' }),
    makeVideo({ seconds: 1, width: 320, height: 240, container: 'webm' }),
  ]);
  Object.assign(inputs, {
    'JPEG photo': { data: jpeg, animated: false },
    'PNG with alpha': { data: png, animated: false },
    'static WebP': { data: webp, animated: false },
    'single-frame GIF': { data: gif1, animated: false },
    'animated GIF': { data: gif, animated: true },
    'animated WebP': { data: awebp, animated: true },
    'MP4 with audio': { data: mp4, animated: true },
    'portrait MOV': { data: mov, animated: true },
    WebM: { data: webm, animated: true },
  });
}, 120_000);

afterAll(async () => {
  await engine.close();
  await rm(tempDir, { recursive: true, force: true });
});

describe('every shape × input kind', () => {
  const kinds = ['JPEG photo', 'PNG with alpha', 'static WebP', 'single-frame GIF', 'animated GIF', 'animated WebP', 'MP4 with audio', 'portrait MOV', 'WebM'];
  for (const kind of kinds) {
    it(`turns a ${kind} into valid stickers of every shape`, async () => {
      const input = inputs[kind]!;
      const results = await Promise.all(
        SHAPES.map((shape) => engine.toSticker(input.data, { shape, pack: `pack ${shape}`, author: 'tester', emojis: ['😀'], packId: `id-${shape}` })),
      );
      for (const [i, result] of results.entries()) {
        const shape = SHAPES[i]!;
        expect(checkStickerRules(result.data), `${kind} ${shape}`).toEqual([]);
        const parsed = parseWebp(result.data);
        expect([parsed.width, parsed.height]).toEqual([512, 512]);
        expect(result.animated).toBe(input.animated);
        expect(parsed.animated).toBe(input.animated);
        expect(result.bytes).toBe(result.data.length);
        expect(result.frames).toBe(parsed.frames.length);
        expect(result.durationMs).toBe(parsed.durationMs);
        if (input.animated) {
          expect(result.frames).toBeGreaterThan(1);
          expect(parsed.frames.every((f) => f.durationMs >= 8)).toBe(true);
        }
        expect(readStickerMetadata(result.data)).toEqual({ packId: `id-${shape}`, packName: `pack ${shape}`, publisher: 'tester', emojis: ['😀'] });
        const decoded = await sharp(result.data, { animated: true }).metadata();
        expect(decoded.width).toBe(512);
        expect(decoded.pageHeight ?? decoded.height).toBe(512);
      }
      expect(await readdir(tempDir)).toEqual([]);
    }, 60_000);
  }
});

async function alphaAt(webp: Buffer, x: number, y: number): Promise<number> {
  const { data } = await sharp(webp).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return data[(y * 512 + x) * 4 + 3]!;
}

describe('shapes and orientation', () => {
  it('pads a landscape picture with transparency for fit and fills the square for crop', async () => {
    const fit = await engine.toSticker(inputs['JPEG photo']!.data, { shape: 'fit' });
    const crop = await engine.toSticker(inputs['JPEG photo']!.data, { shape: 'crop' });
    expect(await alphaAt(fit.data, 256, 10)).toBe(0);
    expect(await alphaAt(fit.data, 256, 256)).toBe(255);
    expect(await alphaAt(crop.data, 256, 10)).toBe(255);
  });

  it('cuts the corners away for circle and rounded but keeps the centre', async () => {
    const circle = await engine.toSticker(inputs['JPEG photo']!.data, { shape: 'circle' });
    const rounded = await engine.toSticker(inputs['JPEG photo']!.data, { shape: 'rounded' });
    expect(await alphaAt(circle.data, 2, 2)).toBe(0);
    expect(await alphaAt(circle.data, 40, 40)).toBe(0);
    expect(await alphaAt(circle.data, 256, 256)).toBe(255);
    expect(await alphaAt(rounded.data, 2, 2)).toBe(0);
    expect(await alphaAt(rounded.data, 80, 80)).toBe(255);
  });

  it('honours the JPEG EXIF orientation', async () => {
    // Stored landscape, orientation 6 says "rotate 90°": the sticker must come out portrait.
    const rotated = await makeJpeg(400, 200, { orientation: 6 });
    const sticker = await engine.toSticker(rotated, { shape: 'fit' });
    expect(await alphaAt(sticker.data, 20, 256)).toBe(0);
    expect(await alphaAt(sticker.data, 256, 20)).toBe(255);
  });

  it('lowers the quality of an incompressible picture until it fits 100,000 bytes', async () => {
    const noise = await sharp({ create: { width: 512, height: 512, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 90 } } })
      .png()
      .toBuffer();
    const sticker = await engine.toSticker(noise, { shape: 'crop' });
    expect(sticker.bytes).toBeLessThanOrEqual(100_000);
    expect(checkStickerRules(sticker.data)).toEqual([]);
  });

  it('keeps the transparency of a PNG', async () => {
    const sticker = await engine.toSticker(inputs['PNG with alpha']!.data, { shape: 'crop' });
    expect(await alphaAt(sticker.data, 5, 5)).toBe(0);
    expect(parseWebp(sticker.data).flags?.alpha).toBe(true);
  });
});

describe('animation timing', () => {
  it('replaces zero frame delays of an animated WebP and keeps the others', async () => {
    const sticker = await engine.toSticker(inputs['animated WebP']!.data);
    const durations = parseWebp(sticker.data).frames.map((f) => f.durationMs);
    expect(durations).toHaveLength(4);
    expect(durations.every((d) => d >= 8)).toBe(true);
    expect(durations[2]).toBe(120);
  });

  it('clips a 12 s video to just under 10 s', async () => {
    const long = await makeVideo({ seconds: 12, width: 160, height: 90, fps: 10 });
    const sticker = await engine.toSticker(long);
    expect(sticker.durationMs).toBeGreaterThan(9_000);
    expect(sticker.durationMs).toBeLessThanOrEqual(10_000);
    expect(checkStickerRules(sticker.data)).toEqual([]);
  }, 60_000);

  it('brings a detailed clip that is over budget on the first pass within 500,000 bytes', async () => {
    const heavy = await makeVideo({ seconds: 5, width: 512, height: 512, fps: 25, source: 'mandelbrot' });
    const sticker = await engine.toSticker(heavy, { shape: 'crop' });
    expect(sticker.bytes).toBeLessThanOrEqual(500_000);
    expect(checkStickerRules(sticker.data)).toEqual([]);
  }, 90_000);
});

describe('take, text, info and back to image', () => {
  it('re-tags a sticker without touching its image data', async () => {
    const original = await engine.toSticker(inputs['animated GIF']!.data, { pack: 'theirs', author: 'them', packId: 'their-id' });
    const taken = await engine.retag(original.data, { packName: 'mine', publisher: 'me' });
    expect(webpImageData(taken.data).equals(webpImageData(original.data))).toBe(true);
    expect(readStickerMetadata(taken.data)).toEqual({ packId: 'their-id', packName: 'mine', publisher: 'me', emojis: [] });
    expect(checkStickerRules(taken.data)).toEqual([]);
    expect(taken).toMatchObject({ animated: true, frames: original.frames, durationMs: original.durationMs });
  });

  it('treats an existing sticker given to toSticker as a take, not a re-encode', async () => {
    const original = await engine.toSticker(inputs['JPEG photo']!.data, { pack: 'a' });
    const again = await engine.toSticker(original.data, { pack: 'b', emojis: ['🔥'] });
    expect(webpImageData(again.data).equals(webpImageData(original.data))).toBe(true);
    expect(readStickerMetadata(again.data)?.packName).toBe('b');
  });

  it('refuses to re-tag something that is not a WebP sticker', async () => {
    await expect(engine.retag(inputs['PNG with alpha']!.data, { packName: 'x' })).rejects.toMatchObject({ code: 'NOT_A_STICKER' });
    const small = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#0f0' } }).webp().toBuffer();
    await expect(engine.retag(small, { packName: 'x' })).rejects.toMatchObject({ code: 'NOT_A_STICKER' });
  });

  it('renders text as a static sticker with visible ink', async () => {
    const sticker = await engine.fromText('Hello <b>& 🙂', { pack: 'words' });
    expect(checkStickerRules(sticker.data)).toEqual([]);
    expect(sticker.animated).toBe(false);
    const { channels } = await sharp(sticker.data).stats();
    expect(channels[3]!.max).toBe(255);
    await expect(engine.fromText('   ')).rejects.toMatchObject({ code: 'TEXT_RENDER_FAILED' });
  });

  it('reports dimensions, frames, duration, size and metadata', async () => {
    const sticker = await engine.toSticker(inputs['animated GIF']!.data, { pack: 'p', author: 'a', packId: 'i', emojis: ['1️⃣'] });
    expect(await engine.info(sticker.data)).toEqual({
      width: 512,
      height: 512,
      animated: true,
      frames: sticker.frames,
      durationMs: sticker.durationMs,
      bytes: sticker.bytes,
      metadata: { packId: 'i', packName: 'p', publisher: 'a', emojis: ['1️⃣'] },
    });
    await expect(engine.info(Buffer.from('no'))).rejects.toMatchObject({ code: 'NOT_A_STICKER' });
  });

  it("keeps a GIF's transparent pixels and an opaque GIF's colours (scaled without alpha)", async () => {
    const [width, height, frames] = [160, 120, 6];
    const raw = Buffer.alloc(width * height * frames * 4);
    for (let p = 0; p < width * height * frames; p += 1) {
      const x = p % width;
      raw.set([200, 40 + 30 * Math.floor(p / (width * height)), 60, 255], p * 4);
      if (x < 20) raw[p * 4 + 3] = 0;
    }
    const makeGifFrom = (pixels: Buffer): Promise<Buffer> =>
      sharp(pixels, { raw: { width, height: height * frames, channels: 4, pageHeight: height } }).gif({ delay: Array(frames).fill(100) as number[] }).toBuffer();
    const opaquePixels = Buffer.from(raw);
    for (let i = 3; i < opaquePixels.length; i += 4) opaquePixels[i] = 255;
    // fit: a 4:3 picture fills the width, so column 30 is inside the GIF's left band.
    const firstFrame = async (gif: Buffer): Promise<Buffer> =>
      sharp((await engine.toSticker(gif, { shape: 'fit' })).data, { pages: 1 }).ensureAlpha().raw().toBuffer();
    const pixel = (frame: Buffer, x: number, y: number): number[] => [...frame.subarray((y * 512 + x) * 4, (y * 512 + x) * 4 + 4)];
    const clear = await firstFrame(await makeGifFrom(raw));
    expect(pixel(clear, 30, 256)[3]).toBeLessThan(20);
    expect(pixel(clear, 300, 256)[3]).toBeGreaterThan(235);
    const opaque = await firstFrame(await makeGifFrom(opaquePixels));
    const [r, g, b, a] = pixel(opaque, 30, 256);
    expect(a).toBe(255);
    expect(Math.abs(r! - 200) + Math.abs(g! - 40) + Math.abs(b! - 60)).toBeLessThan(40);
  }, 60_000);

  it('turns a static sticker into a 512×512 PNG and an animated one into an MP4', async () => {
    const still = await engine.toSticker(inputs['PNG with alpha']!.data);
    const png = await engine.toImage(still.data);
    expect(png.mimetype).toBe('image/png');
    expect(await sharp(png.data).metadata()).toMatchObject({ format: 'png', width: 512, height: 512 });
    const moving = await engine.toSticker(inputs['animated GIF']!.data);
    const mp4 = await engine.toImage(moving.data);
    expect(mp4.mimetype).toBe('video/mp4');
    expect(mp4.data.toString('latin1', 4, 8)).toBe('ftyp');
    const back = await engine.toSticker(mp4.data);
    expect(back.animated).toBe(true);
    expect(Math.abs(back.durationMs - moving.durationMs)).toBeLessThan(250);
    expect(await readdir(tempDir)).toEqual([]);
  }, 60_000);
});
