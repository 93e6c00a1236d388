import sharp from 'sharp';
import { StickerError, throwIfAborted } from './errors.js';
import { checkPixels, sharpError } from './image-sticker.js';
import { byteBudget, STICKER_RULES } from './rules.js';
import { applyMask } from './shape-mask.js';
import type { ConvertRequest, EncodedSticker, EngineContext } from './types.js';

const FIRST_QUALITY = 50;
const MIN_QUALITY = 15;
/** Browsers and WhatsApp show frames with a 0–10 ms delay for about 100 ms. */
const DEFAULT_DELAY_MS = 100;
const TRANSPARENT = { r: 0, g: 0, b: 0, alpha: 0 };

/** Header facts of an animated WebP, from sharp's metadata. */
export interface AnimationHeader {
  width: number;
  pageHeight: number;
  pages: number;
  delay: number[] | undefined;
}

/** Frame delays made valid (≥ 8 ms) and cut so that the total stays within 10 s. */
export function planFrameDelays(header: AnimationHeader): number[] {
  const delays: number[] = [];
  let total = 0;
  for (let i = 0; i < header.pages; i += 1) {
    const raw = header.delay?.[i] ?? DEFAULT_DELAY_MS;
    const delay = raw < STICKER_RULES.minFrameMs ? DEFAULT_DELAY_MS : Math.min(raw, STICKER_RULES.maxDurationMs);
    if (delays.length > 0 && total + delay > STICKER_RULES.maxDurationMs) break;
    delays.push(delay);
    total += delay;
  }
  return delays;
}

/** Merges frame pairs (keeps every other frame, adds up their delays): half the frames, same timing. */
function halveFrames(pixels: Buffer, delays: number[]): { pixels: Buffer; delays: number[] } {
  const frameBytes = STICKER_RULES.size * STICKER_RULES.size * 4;
  const kept: Buffer[] = [];
  const merged: number[] = [];
  for (let i = 0; i < delays.length; i += 2) {
    kept.push(pixels.subarray(i * frameBytes, (i + 1) * frameBytes));
    merged.push(delays[i]! + (delays[i + 1] ?? 0));
  }
  return { pixels: Buffer.concat(kept), delays: merged };
}

/**
 * Animated WebP → animated sticker with sharp (the bundled ffmpeg 4.x cannot decode
 * animated WebP). Frames are decoded and resized once; re-encodes reuse those pixels.
 */
export async function stickerFromAnimatedWebp(
  ctx: EngineContext,
  input: Buffer,
  header: AnimationHeader,
  request: ConvertRequest,
): Promise<EncodedSticker> {
  const size = STICKER_RULES.size;
  checkPixels(header.width, header.pageHeight, ctx.maxInputPixels);
  let delays = planFrameDelays(header);
  const decodedPixels = header.width * header.pageHeight * delays.length;
  if (decodedPixels > ctx.maxInputPixels) {
    throw new StickerError('TOO_MANY_PIXELS', `the animation's ${delays.length} frames hold ${decodedPixels} pixels, more than ${ctx.maxInputPixels}`);
  }
  let pixels: Buffer;
  try {
    const { data, info } = await sharp(input, { animated: true, pages: delays.length, limitInputPixels: decodedPixels + 1 })
      .resize(size, size, { fit: request.shape === 'fit' ? 'contain' : 'cover', position: 'centre', background: TRANSPARENT })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.width !== size || info.height !== size * delays.length) {
      throw new StickerError('CORRUPT_INPUT', `animated WebP decoded to ${info.width}×${info.height}, expected ${delays.length} frames`);
    }
    pixels = data;
  } catch (err) {
    throw sharpError(err);
  }
  const mask = ctx.mask(request.shape);
  if (mask !== undefined) applyMask(pixels, mask);

  const budget = byteBudget(true);
  const encode = async (quality: number): Promise<Buffer> =>
    request.finish(
      await sharp(pixels, { raw: { width: size, height: size * delays.length, channels: 4, pageHeight: size } })
        .webp({ quality, effort: 4, delay: delays, loop: 0 })
        .toBuffer(),
    );
  let quality = FIRST_QUALITY;
  let data = await encode(quality);
  if (data.length > budget) {
    throwIfAborted(request.signal);
    // Size ≈ frames × k·(quality + 23.5), fitted on 512×512 lossy animations.
    const needed = (budget * 0.85) / data.length;
    const predicted = Math.floor((quality + 23.5) * needed - 23.5);
    if (predicted >= MIN_QUALITY) {
      quality = predicted;
    } else {
      quality = MIN_QUALITY;
      ({ pixels, delays } = halveFrames(pixels, delays));
    }
    data = await encode(quality);
  }
  if (data.length > budget && delays.length > 1) {
    throwIfAborted(request.signal);
    ({ pixels, delays } = halveFrames(pixels, delays));
    data = await encode(MIN_QUALITY);
  }
  if (data.length > budget) {
    throw new StickerError('OVER_SIZE_BUDGET', `animated sticker is ${data.length} bytes even at low quality and frame rate (limit ${budget})`);
  }
  return { data, animated: delays.length > 1, frames: delays.length, durationMs: delays.length > 1 ? delays.reduce((a, b) => a + b, 0) : 0 };
}
