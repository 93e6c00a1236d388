import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { gifBytes } from '../test/fixtures.js';
import { gifIsOpaque, lzwUsesIndex, scanGif, withBrowserDelays } from './gif-frames.js';

const W = 48;
const H = 32;

/** A 3-frame GIF written by libvips (which declares a transparent colour in every frame); `clear` pixels of frame 0 get alpha 0. */
async function gif(clear: Array<[number, number]> = []): Promise<Buffer> {
  const frames = 3;
  const raw = Buffer.alloc(W * H * frames * 4);
  for (let p = 0; p < W * H * frames; p += 1) raw.set([(p * 7) % 256, (Math.floor(p / (W * H)) * 80) % 256, 200, 255], p * 4);
  for (const [x, y] of clear) raw[(y * W + x) * 4 + 3] = 0;
  return sharp(raw, { raw: { width: W, height: H * frames, channels: 4, pageHeight: H } }).gif({ delay: [100, 100, 100] }).toBuffer();
}

/** Offsets of every graphic control extension's packed byte and of every image descriptor. */
function blocks(bytes: Buffer): { gce: number[]; images: number[] } {
  const layout = scanGif(bytes);
  if (!layout) throw new Error('not a GIF');
  const gce: number[] = [];
  const images: number[] = [];
  for (let at = 0; at < bytes.length - 3; at += 1) {
    if (bytes[at] === 0x21 && bytes[at + 1] === 0xf9 && bytes[at + 2] === 4) gce.push(at + 3);
    if (bytes[at] === 0x2c && bytes.readUInt16LE(at + 5) === W && bytes.readUInt16LE(at + 7) === H) images.push(at);
  }
  return { gce, images };
}

describe('scanGif', () => {
  it('reads the screen, the frames and the first image of a GIF, and nothing from other bytes', async () => {
    const layout = scanGif(await gif());
    expect(layout).toMatchObject({ width: W, height: H, frames: 3, clearsToBackground: false });
    expect(layout?.first).toMatchObject({ left: 0, top: 0, width: W, height: H });
    expect(layout?.delaysCs).toEqual([10, 10, 10]);
    expect(layout?.extent).toEqual({ width: W, height: H });
    const spilling = gifBytes({ width: 10, height: 10 }, [{ left: 8, top: 6, width: 4, height: 4, pixels: new Uint8Array(16), delayCs: 1 }], [[0, 0, 0]]);
    expect(scanGif(spilling)).toMatchObject({ width: 10, height: 10, extent: { width: 12, height: 10 }, delaysCs: [1] });
    expect(scanGif(Buffer.from('not a gif at all'))).toBeUndefined();
    expect(scanGif(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('withBrowserDelays', () => {
  it('rewrites delays of 0 and 1 cs as 10 cs and leaves every other byte and delay alone', () => {
    const frame = (delayCs: number) => ({ left: 0, top: 0, width: 2, height: 2, pixels: new Uint8Array(4), delayCs });
    const input = gifBytes({ width: 2, height: 2 }, [frame(1), frame(0), frame(2), frame(7)], [[0, 0, 0]]);
    const layout = scanGif(input);
    if (!layout) throw new Error('not a GIF');
    const output = withBrowserDelays(input, layout);
    expect(scanGif(output)?.delaysCs).toEqual([10, 10, 2, 7]);
    expect(output.length).toBe(input.length);
    const changed = [...output.keys()].filter((i) => output[i] !== input[i]);
    expect(changed).toEqual(layout.delayFieldsAt.slice(0, 2));
    expect(scanGif(input)?.delaysCs).toEqual([1, 0, 2, 7]);
    const untouched = gifBytes({ width: 2, height: 2 }, [frame(5), frame(3)], [[0, 0, 0]]);
    const untouchedLayout = scanGif(untouched);
    if (!untouchedLayout) throw new Error('not a GIF');
    expect(withBrowserDelays(untouched, untouchedLayout)).toBe(untouched);
  });
});

describe('gifIsOpaque', () => {
  it('calls a GIF opaque when its first frame declares a transparent colour but never uses it', async () => {
    const opaque = await gif();
    expect(scanGif(opaque)?.first?.transparent).toBeDefined();
    expect(gifIsOpaque(opaque)).toBe(true);
  });

  it('keeps the alpha of a GIF whose first frame shows one transparent pixel', async () => {
    expect(gifIsOpaque(await gif([[17, 9]]))).toBe(false);
  });

  it('keeps the alpha when a frame is restored to the background or the first image leaves part of the screen empty', async () => {
    const restored = await gif();
    const { gce } = blocks(restored);
    expect(gce).toHaveLength(3);
    const last = gce.at(-1)!;
    restored[last] = (restored[last]! & ~0x1c) | (2 << 2);
    expect(gifIsOpaque(restored)).toBe(false);

    const partial = await gif();
    partial.writeUInt16LE(W - 2, blocks(partial).images[0]! + 5);
    expect(gifIsOpaque(partial)).toBe(false);
  });

  it('answers false for a truncated first frame and for bytes that are not a GIF', async () => {
    const whole = await gif();
    const data = scanGif(whole)!.first!.data;
    expect(gifIsOpaque(whole.subarray(0, data + 6))).toBe(false);
    expect(gifIsOpaque(Buffer.from('GIF89a'))).toBe(false);
  });
});

describe('lzwUsesIndex', () => {
  it('finds a colour index anywhere in the first frame, and not one that is absent', async () => {
    const bytes = await gif([[W - 1, H - 1]]);
    const first = scanGif(bytes)!.first!;
    expect(lzwUsesIndex(bytes, first.data, W * H, first.transparent!)).toBe(true);
    // Only the last pixel is transparent: counting one pixel short never reaches it.
    expect(lzwUsesIndex(bytes, first.data, W * H - 1, first.transparent!)).toBe(false);
  });
});
