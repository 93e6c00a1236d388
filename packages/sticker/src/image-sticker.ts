import sharp from 'sharp';
import { detectFormat } from './detect-format.js';
import { StickerError, throwIfAborted } from './errors.js';
import { fitStill } from './fit-still.js';
import { byteBudget, STICKER_RULES } from './rules.js';
import { applyMask } from './shape-mask.js';
import type { ConvertRequest, EncodedSticker, EngineContext } from './types.js';

const FIRST_QUALITY = 75;
/** libwebp method 1: a static sticker is far below its 100 KB at q75, so the cheaper method wins. */
const EFFORT = 1;
/** Mitchell: 4 taps instead of Lanczos-3's 6 for the reduce step; no visible difference at 512². */
const KERNEL = 'mitchell';
const LAST_RESORT_QUALITY = 5;
const TRANSPARENT = { r: 0, g: 0, b: 0, alpha: 0 };

/** Maps sharp's decode errors to our codes. */
export function sharpError(err: unknown): StickerError {
  if (err instanceof StickerError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/pixel limit/i.test(message)) return new StickerError('TOO_MANY_PIXELS', `image too large to decode: ${message}`, { cause: err });
  if (/unsupported image format/i.test(message)) return new StickerError('UNSUPPORTED_FORMAT', message, { cause: err });
  return new StickerError('CORRUPT_INPUT', `cannot decode the image: ${message}`, { cause: err });
}

/** Refuses an image whose header announces more pixels than allowed, before decoding it. */
export function checkPixels(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new StickerError('TOO_MANY_PIXELS', `${width}×${height} is ${width * height} pixels, more than the ${maxPixels} allowed`, {
      details: { width, height },
    });
  }
}

/** Resizes into the 512 square per shape and returns raw RGBA pixels (decoded once). */
async function toSquarePixels(ctx: EngineContext, input: Buffer, request: ConvertRequest): Promise<Buffer> {
  const size = STICKER_RULES.size;
  const fit = request.shape === 'fit' ? 'contain' : 'cover';
  const pixels = await sharp(input, { limitInputPixels: ctx.maxInputPixels })
    .autoOrient()
    .resize(size, size, { fit, position: request.cropPosition, background: TRANSPARENT, kernel: KERNEL })
    .ensureAlpha()
    .raw()
    .toBuffer();
  const mask = ctx.mask(request.shape);
  if (mask !== undefined) applyMask(pixels, mask);
  return pixels;
}

/** Encodes 512×512 RGBA pixels as a static sticker, lowering the quality once by prediction if over budget. */
export async function encodeStaticPixels(pixels: Buffer, request: ConvertRequest): Promise<EncodedSticker> {
  const size = STICKER_RULES.size;
  const budget = byteBudget(false);
  const encode = async (quality: number): Promise<Buffer> =>
    request.finish(
      await sharp(pixels, { raw: { width: size, height: size, channels: 4 } })
        .webp({ quality, effort: EFFORT })
        .toBuffer(),
    );
  let data = await encode(FIRST_QUALITY);
  if (data.length > budget) {
    throwIfAborted(request.signal);
    // Lossy WebP size falls roughly in proportion to quality in this range.
    const predicted = Math.max(LAST_RESORT_QUALITY, Math.floor((FIRST_QUALITY * budget * 0.85) / data.length));
    data = await encode(predicted);
    if (data.length > budget && predicted > LAST_RESORT_QUALITY) data = await encode(LAST_RESORT_QUALITY);
  }
  if (data.length > budget) {
    throw new StickerError('OVER_SIZE_BUDGET', `static sticker is ${data.length} bytes even at the lowest quality (limit ${budget})`);
  }
  return { data, animated: false, frames: 1, durationMs: 0 };
}

/**
 * True when the image has no alpha channel: a JPEG never has one, other formats say so in
 * their header (`hasAlpha` when the caller has read it already). Only opaque images take
 * the two-pipeline `fit` path; one with alpha would pay its second pipeline (~8 ms on a
 * 1080² PNG) for nothing.
 */
async function isOpaque(input: Buffer, hasAlpha: boolean | undefined): Promise<boolean> {
  if (hasAlpha !== undefined) return !hasAlpha;
  return detectFormat(input) === 'jpeg' || !(await sharp(input).metadata()).hasAlpha;
}

/**
 * JPEG, PNG, static WebP or single-frame GIF → static sticker, all in memory. `hasAlpha`:
 * from a header the caller has already read, so it is not read again.
 */
export async function stickerFromImage(ctx: EngineContext, input: Buffer, request: ConvertRequest, hasAlpha?: boolean): Promise<EncodedSticker> {
  try {
    if (request.shape === 'fit' && (await isOpaque(input, hasAlpha))) {
      // Resized, padded and encoded with the alpha rectangle of its placement (fit-still.ts).
      const data = request.finish(await fitStill(input, { maxInputPixels: ctx.maxInputPixels, kernel: KERNEL, quality: FIRST_QUALITY, effort: EFFORT }));
      if (data.length <= byteBudget(false)) return { data, animated: false, frames: 1, durationMs: 0 };
      throwIfAborted(request.signal);
    } else if (ctx.mask(request.shape) === undefined) {
      // No mask to apply: decode, resize and encode in one libvips pipeline. Only an
      // over-budget result (rare at 512²) goes through raw pixels for the re-encodes.
      const data = request.finish(
        await sharp(input, { limitInputPixels: ctx.maxInputPixels })
          .autoOrient()
          .resize(STICKER_RULES.size, STICKER_RULES.size, {
            fit: request.shape === 'fit' ? 'contain' : 'cover',
            position: request.cropPosition,
            background: TRANSPARENT,
            kernel: KERNEL,
          })
          .webp({ quality: FIRST_QUALITY, effort: EFFORT })
          .toBuffer(),
      );
      if (data.length <= byteBudget(false)) return { data, animated: false, frames: 1, durationMs: 0 };
      throwIfAborted(request.signal);
    }
    const pixels = await toSquarePixels(ctx, input, request);
    throwIfAborted(request.signal);
    return await encodeStaticPixels(pixels, request);
  } catch (err) {
    throw sharpError(err);
  }
}
