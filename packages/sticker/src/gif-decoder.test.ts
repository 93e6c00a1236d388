import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { gifBytes, type GifImage } from '../test/fixtures.js';
import { StickerError } from './errors.js';
import { decodeLzw, gifCanvases } from './gif-decoder.js';

const PALETTE: [number, number, number][] = [
  [0, 0, 0],
  [255, 255, 255],
  [220, 40, 40],
  [40, 200, 60],
  [30, 60, 230],
  [250, 210, 30],
];

/** Every canvas our decoder composes, copied as it comes (the decoder reuses its canvas). */
function ours(gif: Buffer): Buffer[] {
  const canvases: Buffer[] = [];
  for (const { rgba } of gifCanvases(gif)) canvases.push(Buffer.from(rgba));
  return canvases;
}

/** Every frame libvips (sharp's GIF loader) composes, RGBA. */
async function libvips(gif: Buffer): Promise<Buffer[]> {
  const { data, info } = await sharp(gif, { animated: true }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const pages = info.pages ?? 1;
  const bytes = data.length / pages;
  return Array.from({ length: pages }, (_, i) => data.subarray(i * bytes, (i + 1) * bytes));
}

/** Pixels where two RGBA canvases differ (fully transparent pixels are equal whatever their colour). */
function differing(a: Buffer, b: Buffer): number {
  let count = 0;
  for (let i = 0; i < a.length; i += 4) {
    if (a[i + 3] === 0 && b[i + 3] === 0) continue;
    if (a.readUInt32BE(i) !== b.readUInt32BE(i)) count += 1;
  }
  return count;
}

async function expectSameAsLibvips(gif: Buffer, frames: number): Promise<Buffer[]> {
  const mine = ours(gif);
  const theirs = await libvips(gif);
  expect(mine).toHaveLength(frames);
  expect(theirs).toHaveLength(frames);
  mine.forEach((canvas, i) => expect(differing(canvas, theirs[i]!), `frame ${i}`).toBe(0));
  return mine;
}

/** A `width`×`height` image of palette index `fill` with a `box` of index `ink`. */
function picture(width: number, height: number, fill: number, box?: { x: number; y: number; w: number; h: number; ink: number }): Uint8Array {
  const pixels = new Uint8Array(width * height).fill(fill);
  if (box !== undefined) for (let y = box.y; y < box.y + box.h; y += 1) pixels.fill(box.ink, y * width + box.x, y * width + box.x + box.w);
  return pixels;
}

const pixelAt = (canvas: Buffer, width: number, x: number, y: number): number[] => [...canvas.subarray((y * width + x) * 4, (y * width + x) * 4 + 4)];

describe('gifCanvases', () => {
  it('decodes what libvips writes (compressed LZW with growing code sizes, interlaced, frame rectangles and transparency) as libvips does', async () => {
    const width = 67;
    const height = 45;
    const frames = 6;
    const raw = Buffer.alloc(width * height * frames * 4);
    for (let f = 0; f < frames; f += 1) {
      for (let p = 0; p < width * height; p += 1) {
        const x = p % width;
        const y = Math.floor(p / width);
        // A moving block over a many-coloured, mostly still background: libvips writes changed rectangles.
        const block = x >= 5 + f * 6 && x < 25 + f * 6 && y >= 10 && y < 30;
        const alpha = x < 3 && f === 0 ? 0 : 255;
        raw.set(block ? [20, 20, 200, 255] : [(x * 9) % 256, (y * 13) % 256, ((x + y) * 5) % 256, alpha], (f * width * height + p) * 4);
      }
    }
    for (const interlace of [false, true]) {
      const gif = await sharp(raw, { raw: { width, height: height * frames, channels: 4, pageHeight: height } })
        .gif({ delay: Array(frames).fill(100) as number[], progressive: interlace })
        .toBuffer();
      // The first image descriptor's interlace flag says which kind libvips wrote.
      const descriptor = gif.indexOf(Buffer.from([0x2c, 0, 0, 0, 0]));
      expect(((gif[descriptor + 9] ?? 0) & 0x40) !== 0).toBe(interlace);
      await expectSameAsLibvips(gif, frames);
    }
  });

  it('decodes long runs of one colour (LZW strings of hundreds of indices, copied natively) as libvips does', async () => {
    const width = 300;
    const height = 120;
    const frames = 3;
    const raw = Buffer.alloc(width * height * frames * 4);
    for (let f = 0; f < frames; f += 1) {
      for (let p = 0; p < width * height; p += 1) {
        const x = p % width;
        const stripe = x > 100 + f * 20 && x < 110 + f * 20;
        raw.set(stripe ? [250, 10, 10, 255] : [10 + f * 40, 120, 60, 255], (f * width * height + p) * 4);
      }
    }
    const gif = await sharp(raw, { raw: { width, height: height * frames, channels: 4, pageHeight: height } })
      .gif({ delay: Array(frames).fill(100) as number[] })
      .toBuffer();
    await expectSameAsLibvips(gif, frames);
  });

  it('applies local palettes, transparent indices and frame offsets', async () => {
    const images: GifImage[] = [
      { width: 8, height: 6, pixels: picture(8, 6, 2, { x: 2, y: 1, w: 3, h: 3, ink: 4 }), delayCs: 10 },
      // Index 0 is transparent: only the inner 2×2 (index 1 of its own palette, yellow) is drawn.
      { left: 3, top: 2, width: 4, height: 4, pixels: picture(4, 4, 0, { x: 1, y: 1, w: 2, h: 2, ink: 1 }), delayCs: 10, transparent: 0, palette: [[0, 0, 0], [250, 210, 30]] },
      { left: 0, top: 0, width: 8, height: 6, pixels: picture(8, 6, 3), delayCs: 10, interlaced: true },
    ];
    const canvases = await expectSameAsLibvips(gifBytes({ width: 8, height: 6 }, images, PALETTE), 3);
    expect(pixelAt(canvases[1]!, 8, 4, 3)).toEqual([250, 210, 30, 255]);
    expect(pixelAt(canvases[1]!, 8, 6, 2)).toEqual([220, 40, 40, 255]);
  });

  it('restores to the background (transparency) and to the previous canvas by the disposal methods 2 and 3', async () => {
    const images: GifImage[] = [
      { width: 10, height: 10, pixels: picture(10, 10, 3), delayCs: 10, transparent: 5, disposal: 1 },
      { left: 2, top: 2, width: 4, height: 4, pixels: picture(4, 4, 2), delayCs: 10, transparent: 5, disposal: 3 },
      { left: 5, top: 5, width: 4, height: 4, pixels: picture(4, 4, 4), delayCs: 10, transparent: 5, disposal: 2 },
      { left: 0, top: 0, width: 1, height: 1, pixels: picture(1, 1, 1), delayCs: 10, transparent: 5, disposal: 1 },
    ];
    const canvases = await expectSameAsLibvips(gifBytes({ width: 10, height: 10 }, images, PALETTE), 4);
    // Frame 1's red square is gone again (restored to frame 0's green), frame 2's blue one leaves a transparent hole.
    expect(pixelAt(canvases[2]!, 10, 3, 3)).toEqual([40, 200, 60, 255]);
    expect(pixelAt(canvases[3]!, 10, 6, 6)[3]).toBe(0);
    expect(pixelAt(canvases[3]!, 10, 4, 4)).toEqual([40, 200, 60, 255]);
  });

  it('clips frames to the logical screen and draws nothing of a frame wholly outside it', () => {
    const images: GifImage[] = [
      { width: 6, height: 4, pixels: picture(6, 4, 3), delayCs: 10 },
      { left: 4, top: 2, width: 4, height: 4, pixels: picture(4, 4, 2), delayCs: 10 },
      { left: 20, top: 20, width: 3, height: 3, pixels: picture(3, 3, 4), delayCs: 10 },
    ];
    const canvases = ours(gifBytes({ width: 6, height: 4 }, images, PALETTE));
    expect(canvases).toHaveLength(3);
    expect(canvases[1]!.length).toBe(6 * 4 * 4);
    expect(pixelAt(canvases[1]!, 6, 5, 3)).toEqual([220, 40, 40, 255]);
    expect(pixelAt(canvases[1]!, 6, 3, 3)).toEqual([40, 200, 60, 255]);
    expect(canvases[2]!.equals(canvases[1]!)).toBe(true);
  });

  it('stops at the frame asked for', () => {
    const images: GifImage[] = [0, 1, 2, 3].map((k) => ({ width: 2, height: 2, pixels: picture(2, 2, k), delayCs: 10 }));
    expect([...gifCanvases(gifBytes({ width: 2, height: 2 }, images, PALETTE), 1)]).toHaveLength(2);
  });
});

describe('broken GIFs', () => {
  const images: GifImage[] = [0, 1].map((k) => ({ width: 16, height: 16, pixels: picture(16, 16, k + 2), delayCs: 10 }));
  const good = gifBytes({ width: 16, height: 16 }, images, PALETTE);
  /** Offset of the second image's LZW minimum code size byte. */
  const secondData = good.lastIndexOf(Buffer.from([0x2c, 0, 0, 0, 0, 16, 0, 16, 0, 0])) + 10;

  const corrupt = (gif: Uint8Array): StickerError => {
    try {
      for (const { rgba } of gifCanvases(gif)) expect(rgba.length).toBeGreaterThan(0);
    } catch (err) {
      expect(err).toBeInstanceOf(StickerError);
      expect((err as StickerError).code).toBe('CORRUPT_INPUT');
      return err as StickerError;
    }
    throw new Error('decoded a broken GIF without an error');
  };

  it('reports image data cut short, in the middle of a frame or of its sub-blocks', () => {
    expect(corrupt(good.subarray(0, secondData + 40)).message).toMatch(/cut short|ends after/);
    expect(corrupt(good.subarray(0, secondData + 2)).message).toMatch(/cut short|ends after/);
    expect(corrupt(good.subarray(0, good.length - 1)).message).toMatch(/without a trailer/);
  });

  it('reports an end code before the last pixel, a code size outside 2–8 and a code not yet defined', () => {
    // 9-bit codes: clear (256), then end (257) at once.
    expect(() => decodeLzw(Uint8Array.from([0x00, 0x03, 0x02]), 8, new Uint8Array(4))).toThrow(/ends after 0 of 4/);
    const badSize = Buffer.from(good);
    badSize[secondData] = 12;
    expect(corrupt(badSize).message).toMatch(/code size 12/);
    // Code 300 right after a clear: nothing is defined above 257 yet.
    const codes = [256, 300];
    const bits = codes.reduce((acc, code, i) => acc | (code << (9 * i)), 0);
    expect(() => decodeLzw(Uint8Array.from([bits & 0xff, (bits >> 8) & 0xff, (bits >> 16) & 0xff]), 8, new Uint8Array(4))).toThrow(/not defined/);
  });

  it('reports a frame without a colour table and bytes that are not a GIF', () => {
    const noTable = gifBytes({ width: 2, height: 2 }, [{ width: 2, height: 2, pixels: picture(2, 2, 0), delayCs: 10 }], PALETTE);
    // Clear the global table flag and drop the table.
    const stripped = Buffer.concat([noTable.subarray(0, 10), Buffer.from([0x00, 0, 0]), noTable.subarray(13 + 768)]);
    expect(corrupt(stripped).message).toMatch(/no colour table/);
    expect(corrupt(Buffer.from('PNG is not a GIF')).message).toMatch(/no GIF header/);
  });
});
