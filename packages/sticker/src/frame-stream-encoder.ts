import sharp from 'sharp';
import { muxAnimatedWebp, type MuxFrame } from './animated-webp-mux.js';
import { StickerError } from './errors.js';

/** A rectangle of the canvas. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What the encoder made of the frames pushed into it. */
export interface EncodedAnimation {
  webp: Buffer;
  frames: number;
  durationMs: number;
}

/** Streams raw RGBA canvases in, encodes each as it arrives, muxes them at the end. */
export interface FrameStreamEncoder {
  /** Raw RGBA bytes in any chunking; every `size²·4` bytes make one frame. */
  push(chunk: Buffer): void;
  /** Frames being encoded right now (the caller pauses its source above a few). */
  inFlight(): number;
  /** Called whenever an encode finishes, so a paused source can resume. */
  onSettled(listener: () => void): void;
  /** Waits for the last encodes and returns the animation; throws if no whole frame came. */
  finish(): Promise<EncodedAnimation>;
}

/**
 * The part of `current` that differs from `previous` (two RGBA canvases of `size`×`size`),
 * widened to even offsets as ANMF requires; undefined when they are identical.
 */
export function changedRect(previous: Buffer, current: Buffer, size: number): Rect | undefined {
  const rowBytes = size * 4;
  let top = 0;
  while (top < size && previous.compare(current, top * rowBytes, (top + 1) * rowBytes, top * rowBytes, (top + 1) * rowBytes) === 0) top += 1;
  if (top === size) return undefined;
  let bottom = size - 1;
  while (bottom > top && previous.compare(current, bottom * rowBytes, (bottom + 1) * rowBytes, bottom * rowBytes, (bottom + 1) * rowBytes) === 0) bottom -= 1;
  const a = new Uint32Array(previous.buffer, previous.byteOffset, previous.length / 4);
  const b = new Uint32Array(current.buffer, current.byteOffset, current.length / 4);
  let left = size;
  let right = -1;
  for (let y = top; y <= bottom; y += 1) {
    const row = y * size;
    for (let x = 0; x < left; x += 1) {
      if (a[row + x] !== b[row + x]) {
        left = x;
        break;
      }
    }
    for (let x = size - 1; x > right; x -= 1) {
      if (a[row + x] !== b[row + x]) {
        right = x;
        break;
      }
    }
  }
  const x = left - (left % 2);
  const y = top - (top % 2);
  return { x, y, width: right + 1 - x, height: bottom + 1 - y };
}

/** True when any pixel of an RGBA buffer is not fully opaque. */
function hasTransparency(rgba: Buffer): boolean {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 255) return true;
  return false;
}

/** Copies a rectangle out of an RGBA canvas (a view when it spans whole rows). */
function crop(canvas: Buffer, size: number, rect: Rect): Buffer {
  const rowBytes = size * 4;
  if (rect.x === 0 && rect.width === size) return canvas.subarray(rect.y * rowBytes, (rect.y + rect.height) * rowBytes);
  const out = Buffer.allocUnsafe(rect.width * rect.height * 4);
  for (let row = 0; row < rect.height; row += 1) {
    const from = (rect.y + row) * rowBytes + rect.x * 4;
    canvas.copy(out, row * rect.width * 4, from, from + rect.width * 4);
  }
  return out;
}

/**
 * Encodes an animation frame by frame in process with libvips/libwebp: each canvas is
 * compared with the previous one, an identical canvas only lengthens the previous frame,
 * and otherwise only the changed rectangle is encoded (as a still lossy WebP, several at
 * once on libuv's thread pool) and placed with ANMF offsets. The first frame is the whole
 * canvas. `durationOf(i)` is the display time of the i-th canvas pushed.
 */
export function createFrameStreamEncoder(options: {
  size: number;
  quality: number;
  /** libwebp method for opaque frames; frames with transparency get at least 1. */
  effort: number;
  durationOf: (index: number) => number;
}): FrameStreamEncoder {
  const { size } = options;
  const frameBytes = size * size * 4;
  const frames: (Omit<MuxFrame, 'webp'> & { webp: Promise<Buffer> })[] = [];
  const listeners: (() => void)[] = [];
  let previous: Buffer | undefined;
  let filling = Buffer.allocUnsafe(frameBytes);
  let filled = 0;
  let pushed = 0;
  let running = 0;

  const encode = (pixels: Buffer, rect: Rect): Promise<Buffer> => {
    running += 1;
    // At method 0 libwebp's lossless alpha plane can come out five times larger than at 1.
    const effort = Math.max(options.effort, hasTransparency(pixels) ? 1 : 0);
    const done = sharp(pixels, { raw: { width: rect.width, height: rect.height, channels: 4 } })
      .webp({ quality: options.quality, effort })
      .toBuffer();
    const settle = (): void => {
      running -= 1;
      for (const listener of listeners) listener();
    };
    done.then(settle, settle);
    return done;
  };

  const frame = (canvas: Buffer): void => {
    const durationMs = options.durationOf(pushed);
    pushed += 1;
    const rect = previous === undefined ? { x: 0, y: 0, width: size, height: size } : changedRect(previous, canvas, size);
    const last = frames[frames.length - 1];
    if (rect === undefined && last !== undefined) {
      last.durationMs += durationMs;
      return;
    }
    const area = rect ?? { x: 0, y: 0, width: size, height: size };
    const webp = encode(crop(canvas, size, area), area);
    // Rejections are read in finish(); until then they must not count as unhandled.
    webp.catch(() => undefined);
    frames.push({ ...area, durationMs, webp });
    previous = canvas;
  };

  return {
    push(chunk) {
      let offset = 0;
      while (offset < chunk.length) {
        const take = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(filling, filled, offset, offset + take);
        filled += take;
        offset += take;
        if (filled === frameBytes) {
          frame(filling);
          filling = Buffer.allocUnsafe(frameBytes);
          filled = 0;
        }
      }
    },
    inFlight: () => running,
    onSettled(listener) {
      listeners.push(listener);
    },
    async finish() {
      if (frames.length === 0) throw new StickerError('FFMPEG_FAILED', 'ffmpeg produced no frame');
      const encoded = await Promise.all(frames.map(async (f) => ({ ...f, webp: await f.webp })));
      const webp = encoded.length === 1 ? encoded[0]!.webp : muxAnimatedWebp(encoded, { width: size, height: size });
      return { webp, frames: encoded.length, durationMs: encoded.length === 1 ? 0 : encoded.reduce((sum, f) => sum + f.durationMs, 0) };
    },
  };
}
