import sharp from 'sharp';
import { StickerError } from './errors.js';
import { sharpError } from './image-sticker.js';
import { encodeWebpFile, readChunks, writeUInt24LE, type WebpChunk, type WebpContainer } from './webp-container.js';

/** ANMF flags byte: bit 1 set = draw without blending, bit 0 set = clear the rectangle to transparent afterwards. */
const NO_BLEND = 0x02;
const DISPOSE = 0x01;
const ANMF_HEADER = 16;

/** One ANMF frame's own image as a still WebP file that libvips decodes on its own. */
function stillOf(frameData: WebpChunk[], width: number, height: number): Buffer {
  const alpha = frameData.find((c) => c.fourcc === 'ALPH');
  const image = frameData.find((c) => c.fourcc === 'VP8 ' || c.fourcc === 'VP8L');
  if (image === undefined) throw new StickerError('CORRUPT_INPUT', 'an animation frame has no image data');
  if (alpha === undefined || image.fourcc === 'VP8L') return encodeWebpFile([image]);
  const vp8x = Buffer.alloc(10);
  vp8x[0] = 0x10;
  writeUInt24LE(vp8x, width - 1, 4);
  writeUInt24LE(vp8x, height - 1, 7);
  return encodeWebpFile([{ fourcc: 'VP8X', data: vp8x }, alpha, image]);
}

/** Draws an RGBA `frame` (its own width) onto the RGBA `canvas` at x, y, alpha-blended ("over") or replacing. */
function draw(canvas: Buffer, canvasWidth: number, frame: Buffer, rect: { x: number; y: number; width: number; height: number }, blend: boolean): void {
  for (let row = 0; row < rect.height; row += 1) {
    let src = row * rect.width * 4;
    let dst = ((rect.y + row) * canvasWidth + rect.x) * 4;
    if (!blend) {
      frame.copy(canvas, dst, src, src + rect.width * 4);
      continue;
    }
    for (let col = 0; col < rect.width; col += 1, src += 4, dst += 4) {
      const a = frame[src + 3]!;
      if (a === 255) {
        canvas[dst] = frame[src]!;
        canvas[dst + 1] = frame[src + 1]!;
        canvas[dst + 2] = frame[src + 2]!;
        canvas[dst + 3] = 255;
      } else if (a > 0) {
        const below = (canvas[dst + 3]! * (255 - a)) / 255;
        const out = a + below;
        for (let c = 0; c < 3; c += 1) canvas[dst + c] = Math.round((frame[src + c]! * a + canvas[dst + c]! * below) / out);
        canvas[dst + 3] = Math.round(out);
      }
    }
  }
}

function clear(canvas: Buffer, canvasWidth: number, rect: { x: number; y: number; width: number; height: number }): void {
  for (let row = 0; row < rect.height; row += 1) {
    const start = ((rect.y + row) * canvasWidth + rect.x) * 4;
    canvas.fill(0, start, start + rect.width * 4);
  }
}

/**
 * The canvases of an animated WebP, one at a time: each ANMF frame is decoded on its own
 * (a small still) and composed here by its blend and dispose flags, so a job holds one
 * canvas instead of the whole decoded animation. libvips' animated loader composes the
 * same way but hands over every frame at once, and asking it for one page re-decodes all
 * the pages before it. The yielded buffer is reused: copy what must outlive the next step.
 */
export async function* webpCanvases(sticker: Buffer, container: WebpContainer): AsyncGenerator<{ rgba: Buffer; durationMs: number }> {
  const { width, height } = container;
  const canvas = Buffer.alloc(width * height * 4);
  const anmf = container.chunks.filter((c) => c.fourcc === 'ANMF');
  for (const [i, chunk] of anmf.entries()) {
    const rect = container.frames[i]!;
    if (rect.x + rect.width > width || rect.y + rect.height > height) {
      throw new StickerError('CORRUPT_INPUT', `animation frame ${i} lies outside the ${width}×${height} canvas`);
    }
    const flags = chunk.data[15] ?? 0;
    let pixels: Buffer;
    try {
      const still = stillOf(readChunks(chunk.data, ANMF_HEADER, chunk.data.length), rect.width, rect.height);
      const decoded = await sharp(still, { limitInputPixels: rect.width * rect.height }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      if (decoded.info.width !== rect.width || decoded.info.height !== rect.height) {
        throw new StickerError('CORRUPT_INPUT', `animation frame ${i} is ${decoded.info.width}×${decoded.info.height}, its header says ${rect.width}×${rect.height}`);
      }
      pixels = decoded.data;
    } catch (err) {
      throw sharpError(err);
    }
    draw(canvas, width, pixels, rect, (flags & NO_BLEND) === 0);
    yield { rgba: canvas, durationMs: rect.durationMs };
    if ((flags & DISPOSE) !== 0) clear(canvas, width, rect);
  }
}
