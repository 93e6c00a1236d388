import sharp from 'sharp';
import { webpFrameMs } from './animation-limits.js';
import { firstPlan } from './animation-plan.js';
import { StickerError, throwIfAborted } from './errors.js';
import { checkPixels, sharpError } from './image-sticker.js';
import { byteBudget, STICKER_RULES } from './rules.js';
import { applyMask } from './shape-mask.js';
import { parseWebp } from './webp-container.js';
import { webpCanvases } from './webp-frames.js';
import type { ConvertRequest, EncodedSticker, EngineContext } from './types.js';

const FIRST_QUALITY = 50;
const MIN_QUALITY = 15;
/** libwebp method: 1 is about 3× faster than the default 4 for ~10% more bytes on animations. */
const EFFORT = 1;
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

/** One output frame: which decoded frame it shows and for how long. */
export interface PlannedFrame {
  index: number;
  delayMs: number;
}

/**
 * Picks the frames to keep: delays made valid (≥ 8 ms), the total cut to 10 s, and runs of
 * very short frames merged (first frame shown for their summed time) so that the frame
 * rate stays near `maxFps`.
 */
export function planFrames(header: AnimationHeader, maxFps: number): PlannedFrame[] {
  const minInterval = (1000 / maxFps) * 0.75;
  const planned: PlannedFrame[] = [];
  let total = 0;
  for (let i = 0; i < header.pages; i += 1) {
    const raw = header.delay?.[i] ?? DEFAULT_DELAY_MS;
    const delay = Math.min(webpFrameMs(raw), STICKER_RULES.maxDurationMs);
    if (planned.length > 0 && total + delay > STICKER_RULES.maxDurationMs) break;
    total += delay;
    const last = planned[planned.length - 1];
    if (last !== undefined && last.delayMs < minInterval) last.delayMs += delay;
    else planned.push({ index: i, delayMs: delay });
  }
  return planned;
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
 * Animated WebP → animated sticker, in process (the bundled ffmpeg 4.x cannot decode
 * animated WebP at all): each canvas is decoded once, resized and dropped, and re-encodes
 * reuse the resized pixels.
 */
export async function stickerFromAnimation(
  ctx: EngineContext,
  input: Buffer,
  header: AnimationHeader,
  request: ConvertRequest,
): Promise<EncodedSticker> {
  const size = STICKER_RULES.size;
  const { width, pageHeight } = header;
  checkPixels(width, pageHeight, ctx.maxInputPixels);
  const totalMs = planFrames(header, Number.POSITIVE_INFINITY).reduce((sum, f) => sum + f.delayMs, 0);
  const planned = planFrames(header, firstPlan(totalMs / 1000, undefined).fps);
  const frameBytes = size * size * 4;
  let pixels: Buffer = Buffer.alloc(frameBytes * planned.length);
  let delays = planned.map((f) => f.delayMs);
  let kept = 0;
  try {
    // One canvas at a time (webpCanvases): the job holds the resized frames, not the decoded animation.
    const container = parseWebp(input);
    let index = 0;
    for await (const { rgba } of webpCanvases(input, container)) {
      if (planned[kept]?.index === index) {
        const resized = await sharp(rgba, { raw: { width: container.width, height: container.height, channels: 4 } })
          .resize(size, size, { fit: request.shape === 'fit' ? 'contain' : 'cover', position: 'centre', background: TRANSPARENT })
          .raw()
          .toBuffer();
        resized.copy(pixels, kept * frameBytes);
        kept += 1;
        if (kept === planned.length) break;
      }
      index += 1;
      throwIfAborted(request.signal);
    }
  } catch (err) {
    throw sharpError(err);
  }
  if (kept < planned.length) throw new StickerError('CORRUPT_INPUT', `the animation holds ${kept} readable frames, its header announces ${header.pages}`);
  const mask = ctx.mask(request.shape);
  if (mask !== undefined) applyMask(pixels, mask);

  const budget = byteBudget(true);
  const encode = async (quality: number): Promise<Buffer> =>
    request.finish(
      await sharp(pixels, { raw: { width: size, height: size * delays.length, channels: 4, pageHeight: size } })
        .webp({ quality, effort: EFFORT, delay: delays, loop: 0 })
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
