import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isStickerError } from './errors.js';
import { parseWebp, replaceWebpExif, rewriteFrameDurations, webpImageData } from './webp-container.js';

async function frames(count: number, delays: number[]): Promise<Buffer> {
  const raw = Buffer.alloc(64 * 64 * 4 * count);
  for (let i = 0; i < raw.length; i += 4) {
    raw[i] = (i / 97) % 255;
    raw[i + 3] = 255;
  }
  return sharp(raw, { raw: { width: 64, height: 64 * count, channels: 4, pageHeight: 64 } }).webp({ delay: delays, loop: 0 }).toBuffer();
}

describe('parseWebp', () => {
  it('reads size and alpha of a simple lossless file', async () => {
    const webp = await sharp({ create: { width: 30, height: 20, channels: 4, background: { r: 1, g: 2, b: 3, alpha: 0.5 } } })
      .webp({ lossless: true })
      .toBuffer();
    const parsed = parseWebp(webp);
    expect(parsed).toMatchObject({ width: 30, height: 20, animated: false, flags: undefined, hasAlpha: true, durationMs: 0 });
    expect(parsed.chunks.map((c) => c.fourcc)).toEqual(['VP8L']);
  });

  it('reads ANMF frame durations and the loop count of an animation', async () => {
    const parsed = parseWebp(await frames(3, [40, 80, 120]));
    expect(parsed.animated).toBe(true);
    expect(parsed.flags?.animation).toBe(true);
    expect(parsed.loopCount).toBe(0);
    expect(parsed.frames.map((f) => f.durationMs)).toEqual([40, 80, 120]);
    expect(parsed.durationMs).toBe(240);
  });

  it('refuses bytes that are not WebP with NOT_A_STICKER and a truncated file with CORRUPT_INPUT', async () => {
    expect(() => parseWebp(Buffer.from('hello world, not a webp'))).toThrow(expect.objectContaining({ code: 'NOT_A_STICKER' }));
    const webp = await frames(2, [50, 50]);
    try {
      parseWebp(webp.subarray(0, webp.length - 10));
      expect.unreachable();
    } catch (err) {
      expect(isStickerError(err, 'CORRUPT_INPUT')).toBe(true);
    }
  });
});

describe('replaceWebpExif', () => {
  it('promotes a simple file to VP8X with the EXIF flag and leaves the bitstream alone', async () => {
    const webp = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#f00' } }).webp().toBuffer();
    const tagged = replaceWebpExif(webp, Buffer.from('exif payload'));
    const parsed = parseWebp(tagged);
    expect(parsed.chunks.map((c) => c.fourcc)).toEqual(['VP8X', 'VP8 ', 'EXIF']);
    expect(parsed.flags).toMatchObject({ exif: true, animation: false, alpha: false });
    expect(parsed.exif?.toString()).toBe('exif payload');
    expect(webpImageData(tagged).equals(webpImageData(webp))).toBe(true);
    const decoded = await sharp(tagged).metadata();
    expect([decoded.width, decoded.height]).toEqual([16, 16]);
  });

  it('replaces an existing EXIF chunk and can remove it again', async () => {
    const once = replaceWebpExif(await frames(2, [50, 50]), Buffer.from('one'));
    const twice = replaceWebpExif(once, Buffer.from('second'));
    expect(parseWebp(twice).chunks.filter((c) => c.fourcc === 'EXIF')).toHaveLength(1);
    expect(parseWebp(twice).exif?.toString()).toBe('second');
    const removed = parseWebp(replaceWebpExif(twice, undefined));
    expect(removed.exif).toBeUndefined();
    expect(removed.flags?.exif).toBe(false);
    expect(removed.flags?.animation).toBe(true);
  });
});

describe('rewriteFrameDurations', () => {
  it('patches frame durations without touching the frames', async () => {
    const webp = await frames(3, [40, 60, 80]);
    const patched = rewriteFrameDurations(webp, (ms, i) => ms * 2 + i);
    expect(parseWebp(patched).frames.map((f) => f.durationMs)).toEqual([80, 121, 162]);
    expect((await sharp(patched, { animated: true }).metadata()).delay).toEqual([80, 121, 162]);
  });
});
