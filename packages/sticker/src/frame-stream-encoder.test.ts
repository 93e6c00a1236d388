import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { muxAnimatedWebp } from './animated-webp-mux.js';
import { keptBufferBytes } from './buffer-pool.js';
import { rectangleAlpha } from './fit-still.js';
import { changedRect, createFrameStreamEncoder } from './frame-stream-encoder.js';
import { parseWebp } from './webp-container.js';

const SIZE = 64;

function canvas(rgba: [number, number, number, number]): Buffer {
  const out = Buffer.alloc(SIZE * SIZE * 4);
  for (let i = 0; i < SIZE * SIZE; i += 1) out.set(rgba, i * 4);
  return out;
}

function paint(base: Buffer, x0: number, y0: number, w: number, h: number, rgba: [number, number, number, number]): Buffer {
  const out = Buffer.from(base);
  for (let y = y0; y < y0 + h; y += 1) for (let x = x0; x < x0 + w; x += 1) out.set(rgba, (y * SIZE + x) * 4);
  return out;
}

async function decodedFrames(webp: Buffer): Promise<Buffer[]> {
  const { data, info } = await sharp(webp, { animated: true }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const pages = info.height / SIZE;
  return Array.from({ length: pages }, (_, i) => data.subarray(i * SIZE * SIZE * 4, (i + 1) * SIZE * SIZE * 4));
}

function pixel(frame: Buffer, x: number, y: number): number[] {
  return [...frame.subarray((y * SIZE + x) * 4, (y * SIZE + x) * 4 + 4)];
}

function near(actual: number[], expected: number[], tolerance = 24): boolean {
  return actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance);
}

describe('changed rectangle', () => {
  it('is undefined for identical canvases and covers one changed pixel with even offsets', () => {
    const a = canvas([10, 20, 30, 255]);
    expect(changedRect(a, Buffer.from(a), SIZE, SIZE)).toBeUndefined();
    const b = paint(a, 5, 7, 1, 1, [200, 0, 0, 255]);
    expect(changedRect(a, b, SIZE, SIZE)).toEqual({ x: 4, y: 6, width: 2, height: 2 });
    const c = paint(a, 10, 20, 30, 4, [0, 200, 0, 255]);
    expect(changedRect(a, c, SIZE, SIZE)).toEqual({ x: 10, y: 20, width: 30, height: 4 });
  });
});

describe('frame stream encoder', () => {
  it('gives its buffers back after the last encode, and the next animation made from them shows only its own pictures', async () => {
    const red = canvas([220, 30, 30, 255]);
    const first = createFrameStreamEncoder({ size: SIZE, quality: 90, effort: 0, durationOf: () => 100 });
    first.push(Buffer.concat([red, paint(red, 0, 0, 40, 40, [30, 220, 30, 255]), paint(red, 8, 8, 8, 8, [30, 30, 220, 255])]));
    await first.finish();
    expect(keptBufferBytes()).toBeGreaterThanOrEqual(SIZE * SIZE * 4);

    // The second animation's frames are the first one's buffers, overwritten: nothing of red or green may show.
    const grey = canvas([128, 128, 128, 255]);
    const second = createFrameStreamEncoder({ size: SIZE, quality: 90, effort: 0, durationOf: () => 100 });
    second.push(Buffer.concat([grey, paint(grey, 48, 48, 8, 8, [250, 250, 250, 255])]));
    const frames = await decodedFrames((await second.finish()).webp);
    expect(frames).toHaveLength(2);
    for (const [i, frame] of frames.entries()) {
      for (const [x, y] of [[2, 2], [20, 20], [12, 12], [60, 2]] as const) expect(near(pixel(frame, x, y), [128, 128, 128, 255]), `frame ${i} at ${x},${y}`).toBe(true);
    }
    expect(near(pixel(frames[1]!, 50, 50), [250, 250, 250, 255])).toBe(true);
  });

  it('merges repeated canvases into one longer frame and encodes only what changed', async () => {
    const blue = canvas([20, 40, 220, 255]);
    const withSquare = paint(blue, 32, 32, 16, 16, [240, 240, 20, 255]);
    const encoder = createFrameStreamEncoder({ size: SIZE, quality: 90, effort: 0, durationOf: () => 100 });
    // Odd chunk sizes: frames are cut from the byte stream, not from the chunks.
    const stream = Buffer.concat([blue, blue, withSquare]);
    for (let offset = 0; offset < stream.length; offset += 1000) encoder.push(stream.subarray(offset, offset + 1000));
    const animation = await encoder.finish();

    expect(animation.frames).toBe(2);
    expect(animation.durationMs).toBe(300);
    const parsed = parseWebp(animation.webp);
    expect(parsed.animated).toBe(true);
    expect(parsed.frames).toEqual([
      { x: 0, y: 0, width: SIZE, height: SIZE, durationMs: 200 },
      { x: 32, y: 32, width: 16, height: 16, durationMs: 100 },
    ]);
    const [first, second] = await decodedFrames(animation.webp);
    expect(near(pixel(first!, 40, 40), [20, 40, 220, 255])).toBe(true);
    expect(near(pixel(second!, 40, 40), [240, 240, 20, 255])).toBe(true);
    // Outside the rectangle the second frame keeps what the first one drew.
    expect(near(pixel(second!, 5, 5), [20, 40, 220, 255])).toBe(true);
  });

  it('keeps transparency and returns a still image when every canvas is the same', async () => {
    const clear = paint(canvas([0, 0, 0, 0]), 16, 16, 32, 32, [200, 30, 30, 255]);
    const encoder = createFrameStreamEncoder({ size: SIZE, quality: 80, effort: 0, durationOf: () => 50 });
    encoder.push(Buffer.concat([clear, clear]));
    const still = await encoder.finish();
    expect(still.frames).toBe(1);
    expect(parseWebp(still.webp).animated).toBe(false);
    const [frame] = await decodedFrames(still.webp);
    expect(pixel(frame!, 2, 2)[3]).toBe(0);
    expect(near(pixel(frame!, 32, 32), [200, 30, 30, 255])).toBe(true);
  });

  it('places unpadded images on a transparent canvas at their offset', async () => {
    const width = 32;
    const height = 16;
    const image = (rgba: [number, number, number, number]): Buffer => {
      const out = Buffer.alloc(width * height * 4);
      for (let i = 0; i < width * height; i += 1) out.set(rgba, i * 4);
      return out;
    };
    const encoder = createFrameStreamEncoder({ size: SIZE, frame: { x: 16, y: 24, width, height }, quality: 90, effort: 0, durationOf: () => 100 });
    encoder.push(Buffer.concat([image([200, 30, 30, 255]), image([30, 200, 30, 255])]));
    const animation = await encoder.finish();
    expect(parseWebp(animation.webp).frames).toEqual([
      { x: 0, y: 0, width: SIZE, height: SIZE, durationMs: 100 },
      { x: 16, y: 24, width, height, durationMs: 100 },
    ]);
    const [first, second] = await decodedFrames(animation.webp);
    expect(pixel(first!, 2, 2)[3]).toBe(0);
    expect(near(pixel(first!, 20, 30), [200, 30, 30, 255])).toBe(true);
    expect(near(pixel(second!, 20, 30), [30, 200, 30, 255])).toBe(true);
    expect(pixel(second!, 60, 60)[3]).toBe(0);
  });

  it('gives an opaque first image the kept ALPH chunk of its placement, and codes the alpha of one with transparency', async () => {
    const place = { x: 8, y: 20, width: 48, height: 24 };
    const image = (hole: boolean): Buffer => {
      const out = Buffer.alloc(place.width * place.height * 4);
      for (let i = 0; i < place.width * place.height; i += 1) out.set([40, 90, 220, hole && i % place.width < 6 ? 0 : 255], i * 4);
      return out;
    };
    const kept = await rectangleAlpha(place, SIZE);
    for (const hole of [false, true]) {
      const encoder = createFrameStreamEncoder({ size: SIZE, frame: place, quality: 90, effort: 0, durationOf: () => 100 });
      const next = image(hole);
      next.fill(255, 0, 16);
      encoder.push(Buffer.concat([image(hole), next]));
      const animation = await encoder.finish();
      expect(animation.frames).toBe(2);
      expect(animation.webp.includes(kept)).toBe(!hole);
      const [first] = await decodedFrames(animation.webp);
      expect(pixel(first!, 2, 2)[3]).toBe(0);
      expect(pixel(first!, 30, 50)[3]).toBe(0);
      expect(near(pixel(first!, 30, 30), [40, 90, 220, 255])).toBe(true);
      // The picture's left edge: transparent where the image was, opaque where it was not.
      expect(pixel(first!, 10, 30)[3]).toBe(hole ? 0 : 255);
    }
  });

  it('copies what it needs from each pushed chunk, so the caller may reuse its read buffer, and recycles frames', async () => {
    const colours: [number, number, number, number][] = [
      [200, 30, 30, 255],
      [30, 200, 30, 255],
      [30, 30, 200, 255],
      [200, 200, 30, 255],
    ];
    const encoder = createFrameStreamEncoder({ size: SIZE, quality: 90, effort: 0, durationOf: () => 100 });
    const readBuffer = Buffer.alloc(1000);
    // Twelve frames cycling through four colours, each pushed through one overwritten buffer.
    const stream = Buffer.concat(Array.from({ length: 12 }, (_, i) => paint(canvas([0, 0, 0, 255]), 8, 8, 40, 40, colours[i % 4]!)));
    for (let offset = 0; offset < stream.length; offset += readBuffer.length) {
      const bytes = stream.copy(readBuffer, 0, offset, offset + readBuffer.length);
      encoder.push(readBuffer.subarray(0, bytes));
      readBuffer.fill(0x55);
    }
    const animation = await encoder.finish();
    expect(animation.frames).toBe(12);
    const decoded = await decodedFrames(animation.webp);
    decoded.forEach((frame, i) => {
      expect(near(pixel(frame, 20, 20), colours[i % 4]!)).toBe(true);
      expect(near(pixel(frame, 2, 2), [0, 0, 0, 255])).toBe(true);
    });
  });

  it('refuses to finish without one whole frame', async () => {
    const encoder = createFrameStreamEncoder({ size: SIZE, quality: 80, effort: 0, durationOf: () => 50 });
    encoder.push(Buffer.alloc(100));
    await expect(encoder.finish()).rejects.toMatchObject({ code: 'FFMPEG_FAILED' });
  });
});

describe('animated WebP mux', () => {
  it('refuses odd frame offsets, which the container cannot store', async () => {
    const webp = await sharp(canvas([1, 2, 3, 255]).subarray(0, 4 * 4 * 4), { raw: { width: 4, height: 4, channels: 4 } }).webp().toBuffer();
    expect(() => muxAnimatedWebp([{ webp, x: 1, y: 0, width: 4, height: 4, durationMs: 100 }], { width: SIZE, height: SIZE })).toThrow(/not even/);
  });
});
