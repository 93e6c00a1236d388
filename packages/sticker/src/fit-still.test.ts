import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fitStill, rectangleAlpha } from './fit-still.js';
import { checkStickerRules } from './sticker-rules-check.js';
import { encodeStickerExif } from './sticker-metadata.js';
import { parseWebp, replaceWebpExif } from './webp-container.js';

const OPTIONS = { maxInputPixels: 100_000_000, kernel: 'mitchell', quality: 75, effort: 1 } as const;

/** What the engine made before: one libvips pipeline, `contain` on transparency, alpha coded by libwebp. */
async function reference(input: Buffer): Promise<Buffer> {
  return sharp(input)
    .autoOrient()
    .resize(512, 512, { fit: 'contain', background: { r: 0, g: 0, b: 0, alpha: 0 }, kernel: 'mitchell' })
    .webp({ quality: 75, effort: 1 })
    .toBuffer();
}

async function noisyJpeg(width: number, height: number, options: { orientation?: number; grey?: boolean } = {}): Promise<Buffer> {
  let image = sharp({ create: { width, height, channels: 3, background: '#48c', noise: { type: 'gaussian', mean: 128, sigma: 40 } } });
  if (options.grey === true) image = image.greyscale();
  if (options.orientation !== undefined) image = image.withMetadata({ orientation: options.orientation });
  return image.jpeg({ quality: 90 }).toBuffer();
}

describe('fitStill', () => {
  for (const [label, make] of [
    ['a 4:3 JPEG', () => noisyJpeg(4000, 3000)],
    ['a portrait JPEG of odd size', () => noisyJpeg(1615, 2896)],
    ['a 2999×2082 JPEG (sharp rounds its height down)', () => noisyJpeg(2999, 2082)],
    ['a JPEG 3 pixels high', () => noisyJpeg(1500, 3)],
    ['a JPEG rotated by its EXIF orientation', () => noisyJpeg(1200, 800, { orientation: 6 })],
    ['a greyscale JPEG', () => noisyJpeg(900, 700, { grey: true })],
  ] as const) {
    it(`${label}: opaque VP8 plus the placement's ALPH, the same pixels as contain on transparency`, async () => {
      const input = await make();
      const webp = await fitStill(input, OPTIONS);
      const fourccs = parseWebp(webp).chunks.map((c) => c.fourcc);
      expect(fourccs).toEqual(['VP8X', 'ALPH', 'VP8 ']);
      const ours = await sharp(webp).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      const theirs = await sharp(await reference(input)).ensureAlpha().raw().toBuffer();
      expect(ours.info).toMatchObject({ width: 512, height: 512, channels: 4 });
      let alphaDiffers = 0;
      let partial = 0;
      let inside = 0;
      let rgbDifference = 0;
      for (let p = 0; p < 512 * 512 * 4; p += 4) {
        const alpha = ours.data[p + 3]!;
        if (alpha !== 0 && alpha !== 255) partial += 1;
        if (alpha !== theirs[p + 3]) alphaDiffers += 1;
        if (alpha === 255) {
          inside += 1;
          for (let c = 0; c < 3; c += 1) rgbDifference += Math.abs(ours.data[p + c]! - theirs[p + c]!);
        }
      }
      expect(alphaDiffers).toBe(0);
      expect(partial).toBe(0);
      expect(inside).toBeGreaterThan(0);
      // Lossy coding: libwebp's segment and filter choices see the padding (its flat colours
      // there, our black), so the picture can come out a level or so apart on average (measured
      // up to ~1 on these noisy photos; a 1–3 row strip, all edge blocks, up to ~3.5). A
      // misplaced or shifted picture on this grain would differ by tens.
      expect(rgbDifference / (inside * 3)).toBeLessThan(inside > 512 * 16 ? 2 : 8);
      expect(checkStickerRules(replaceWebpExif(webp, encodeStickerExif({ packId: 'p', packName: 'n', publisher: 'a', emojis: [] })))).toEqual([]);
    });
  }

  for (const side of [480, 512, 1000]) {
    it(`a square ${side}×${side} JPEG fills the canvas: plain VP8, every pixel opaque`, async () => {
      const webp = await fitStill(await noisyJpeg(side, side), OPTIONS);
      expect(parseWebp(webp).chunks.map((c) => c.fourcc)).toEqual(['VP8 ']);
      const { data, info } = await sharp(webp).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      expect(info).toMatchObject({ width: 512, height: 512 });
      for (let p = 3; p < data.length; p += 4) if (data[p] !== 255) throw new Error(`pixel ${(p - 3) / 4} is not opaque`);
    });
  }

  it('keeps the alpha of an image that has its own (encoded by libwebp, not a rectangle)', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="300"><circle cx="300" cy="150" r="120" fill="#e33"/></svg>';
    const webp = await fitStill(await sharp(Buffer.from(svg)).png().toBuffer(), OPTIONS);
    const { data } = await sharp(webp).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const alphaAt = (x: number, y: number): number => data[(y * 512 + x) * 4 + 3]!;
    expect(alphaAt(256, 256)).toBe(255);
    expect(alphaAt(100, 200)).toBe(0); // inside the picture's placement, outside the circle
    expect(alphaAt(256, 20)).toBe(0); // padding
  });

  it('codes each placement once', async () => {
    const rect = { x: 0, y: 64, width: 512, height: 384 };
    expect(await rectangleAlpha(rect)).toBe(await rectangleAlpha({ ...rect }));
  });
});
