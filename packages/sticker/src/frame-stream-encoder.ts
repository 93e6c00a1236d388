import sharp from 'sharp';
import { muxAnimatedWebp, type MuxFrame } from './animated-webp-mux.js';
import { giveBack, takeBuffer, takeZeroed } from './buffer-pool.js';
import { StickerError } from './errors.js';
import { attachAlpha, rectangleAlpha } from './fit-still.js';

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
 * The part of `current` that differs from `previous` (two RGBA images of `width`×`height`),
 * widened to even offsets as ANMF requires; undefined when they are identical.
 */
export function changedRect(previous: Buffer, current: Buffer, width: number, height: number): Rect | undefined {
  const rowBytes = width * 4;
  let top = 0;
  while (top < height && previous.compare(current, top * rowBytes, (top + 1) * rowBytes, top * rowBytes, (top + 1) * rowBytes) === 0) top += 1;
  if (top === height) return undefined;
  let bottom = height - 1;
  while (bottom > top && previous.compare(current, bottom * rowBytes, (bottom + 1) * rowBytes, bottom * rowBytes, (bottom + 1) * rowBytes) === 0) bottom -= 1;
  const a = new Uint32Array(previous.buffer, previous.byteOffset, previous.length / 4);
  const b = new Uint32Array(current.buffer, current.byteOffset, current.length / 4);
  let left = width;
  let right = -1;
  for (let y = top; y <= bottom; y += 1) {
    const row = y * width;
    for (let x = 0; x < left; x += 1) {
      if (a[row + x] !== b[row + x]) {
        left = x;
        break;
      }
    }
    for (let x = width - 1; x > right; x -= 1) {
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

/**
 * True when any pixel of an RGBA buffer is not fully opaque. Read a word at a time when
 * the buffer is aligned, four words ANDed per step and checked per block: a branch per
 * pixel made this scan cost a third of a frame's resize.
 */
function hasTransparency(rgba: Buffer): boolean {
  if (rgba.byteOffset % 4 === 0) {
    const words = new Int32Array(rgba.buffer, rgba.byteOffset, rgba.length >>> 2);
    const whole = words.length - (words.length % 4);
    for (let block = 0; block < whole; block += 4096) {
      const end = Math.min(whole, block + 4096);
      let all = -1;
      for (let i = block; i < end; i += 4) all &= words[i]! & words[i + 1]! & words[i + 2]! & words[i + 3]!;
      if (all >>> 24 !== 255) return true;
    }
    for (let i = whole; i < words.length; i += 1) if (words[i]! >>> 24 !== 255) return true;
    return false;
  }
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 255) return true;
  return false;
}

/** Copies a rectangle out of an RGBA image `width` pixels wide into `into` (a view of `canvas` when it spans whole rows). */
function crop(canvas: Buffer, width: number, rect: Rect, into: () => Buffer): Buffer {
  const rowBytes = width * 4;
  if (rect.x === 0 && rect.width === width) return canvas.subarray(rect.y * rowBytes, (rect.y + rect.height) * rowBytes);
  const out = into().subarray(0, rect.width * rect.height * 4);
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
 * canvas. `durationOf(i)` is the display time of the i-th canvas pushed. With `frame`, the
 * pushed images are only that rectangle of the canvas (the rest stays transparent), so the
 * caller need not pad them.
 */
export function createFrameStreamEncoder(options: {
  size: number;
  /** Where the pushed images sit on the canvas (even offsets); default the whole canvas. */
  frame?: Rect | undefined;
  quality: number;
  /** libwebp method for opaque frames; frames with transparency get at least 1. */
  effort: number;
  durationOf: (index: number) => number;
}): FrameStreamEncoder {
  const { size } = options;
  const place = options.frame ?? { x: 0, y: 0, width: size, height: size };
  if (place.x % 2 !== 0 || place.y % 2 !== 0 || place.x + place.width > size || place.y + place.height > size) {
    throw new StickerError('FFMPEG_FAILED', `frame rectangle ${JSON.stringify(place)} does not fit the ${size}² canvas at even offsets`);
  }
  const frameBytes = place.width * place.height * 4;
  const full = { x: 0, y: 0, width: size, height: size };
  /** Buffers this encoder took from the pool; they go back once every encode has settled. */
  const taken: Buffer[] = [];
  const take = (bytes: number, zeroed = false): Buffer => {
    const buffer = zeroed ? takeZeroed(bytes) : takeBuffer(bytes);
    taken.push(buffer);
    return buffer;
  };
  /** The first frame is always the whole canvas: the pushed image on transparency. */
  const wholeCanvas = (image: Buffer): Buffer => {
    if (place.width === size && place.height === size) return image;
    const canvas = take(size * size * 4, true);
    for (let row = 0; row < place.height; row += 1) {
      image.copy(canvas, ((place.y + row) * size + place.x) * 4, row * place.width * 4, (row + 1) * place.width * 4);
    }
    return canvas;
  };
  const frames: (Omit<MuxFrame, 'webp'> & { webp: Promise<Buffer> })[] = [];
  const listeners: (() => void)[] = [];
  // Frame and crop buffers are recycled, and kept for the next conversion (buffer-pool.ts):
  // a fresh 1 MiB buffer is 256 page faults, which cost more than the encode in VMs with a
  // software MMU.
  const spareFrames: Buffer[] = [];
  const spareCrops: Buffer[] = [];
  /** How many users (the previous-frame slot, running encodes) each frame buffer has. */
  const holds = new Map<Buffer, number>();
  const hold = (buffer: Buffer): void => {
    holds.set(buffer, (holds.get(buffer) ?? 0) + 1);
  };
  const release = (buffer: Buffer): void => {
    const left = (holds.get(buffer) ?? 1) - 1;
    if (left > 0) holds.set(buffer, left);
    else {
      holds.delete(buffer);
      spareFrames.push(buffer);
    }
  };
  const takeFrame = (): Buffer => spareFrames.pop() ?? take(frameBytes);
  let previous: Buffer | undefined;
  let filling = takeFrame();
  let filled = 0;
  let pushed = 0;
  let running = 0;

  /** Runs one encode; `done` runs once libvips no longer needs its pixels. */
  const track = (webp: Promise<Buffer>, done: () => void): Promise<Buffer> => {
    running += 1;
    const settle = (): void => {
      running -= 1;
      done();
      for (const listener of listeners) listener();
    };
    webp.then(settle, settle);
    // Rejections are read in finish(); until then they must not count as unhandled.
    webp.catch(() => undefined);
    return webp;
  };

  /** Encodes `pixels` (a rectangle of the canvas). */
  const encode = (pixels: Buffer, rect: Rect, done: () => void): Promise<Buffer> => {
    // At method 0 libwebp's lossless alpha plane can come out five times larger than at 1.
    const effort = options.effort >= 1 || !hasTransparency(pixels) ? options.effort : 1;
    return track(sharp(pixels, { raw: { width: rect.width, height: rect.height, channels: 4 } }).webp({ quality: options.quality, effort }).toBuffer(), done);
  };

  /**
   * The first frame when the pushed image is opaque and smaller than the canvas: padded
   * with black and encoded as plain VP8 at the caller's method, with the ALPH chunk of its
   * placement coded once and kept (`rectangleAlpha`, as for `fit` stills). Coding the same
   * rectangle of alpha on the whole 512² canvas at method ≥ 1 made this one frame cost
   * about three times an ordinary one.
   */
  const encodeOpaqueOnCanvas = (image: Buffer, done: () => void): Promise<Buffer> =>
    track(
      (async () => {
        const alph = rectangleAlpha(place, size);
        const opaque = await sharp(image, { raw: { width: place.width, height: place.height, channels: 4 } })
          .removeAlpha()
          .extend({ top: place.y, bottom: size - place.y - place.height, left: place.x, right: size - place.x - place.width, background: { r: 0, g: 0, b: 0 } })
          .webp({ quality: options.quality, effort: options.effort })
          .toBuffer();
        return attachAlpha(opaque, alph, size, 'an opaque frame');
      })(),
      done,
    );

  const frame = (image: Buffer): void => {
    const durationMs = options.durationOf(pushed);
    pushed += 1;
    const last = frames[frames.length - 1];
    if (previous === undefined || last === undefined) {
      hold(image);
      previous = image;
      if ((place.width !== size || place.height !== size) && !hasTransparency(image)) {
        hold(image);
        frames.push({ ...full, durationMs, webp: encodeOpaqueOnCanvas(image, () => release(image)) });
        return;
      }
      const canvas = wholeCanvas(image);
      if (canvas === image) hold(image);
      frames.push({ ...full, durationMs, webp: encode(canvas, full, () => (canvas === image ? release(image) : undefined)) });
      return;
    }
    const rect = changedRect(previous, image, place.width, place.height);
    if (rect === undefined) {
      last.durationMs += durationMs;
      release(image);
      return;
    }
    let scratch: Buffer | undefined;
    const pixels = crop(image, place.width, rect, () => (scratch = spareCrops.pop() ?? take(frameBytes)));
    const copied = scratch;
    if (copied === undefined) hold(image);
    const webp = encode(pixels, rect, () => (copied === undefined ? release(image) : spareCrops.push(copied)));
    frames.push({ x: rect.x + place.x, y: rect.y + place.y, width: rect.width, height: rect.height, durationMs, webp });
    release(previous);
    hold(image);
    previous = image;
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
          filling = takeFrame();
          filled = 0;
        }
      }
    },
    inFlight: () => running,
    onSettled(listener) {
      listeners.push(listener);
    },
    async finish() {
      if (frames.length === 0) throw new StickerError('FFMPEG_FAILED', 'no frame came to encode');
      // Every encode settles before the buffers go back: after a failed one, others may still be reading theirs.
      const settled = await Promise.allSettled(frames.map((f) => f.webp));
      giveBack(taken.splice(0));
      const encoded = frames.map((f, i) => {
        const outcome = settled[i]!;
        if (outcome.status === 'rejected') throw outcome.reason;
        return { ...f, webp: outcome.value };
      });
      const webp = encoded.length === 1 ? encoded[0]!.webp : muxAnimatedWebp(encoded, { width: size, height: size });
      return { webp, frames: encoded.length, durationMs: encoded.length === 1 ? 0 : encoded.reduce((sum, f) => sum + f.durationMs, 0) };
    },
  };
}
