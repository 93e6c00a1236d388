import { MAX_CLIP_SECONDS } from './animation-plan.js';
import { StickerError } from './errors.js';
import { checkPixels } from './image-sticker.js';
import { STICKER_RULES } from './rules.js';
import { parseWebp } from './webp-container.js';

/** Frames without a usable delay are shown this long by browsers and by WhatsApp. */
const FALLBACK_FRAME_MS = 100;

/**
 * How long a browser shows a GIF frame: delays of 0 or 1 cs play as 10 cs (Chromium,
 * Firefox and WebKit alike; ffmpeg's gif demuxer does the same with its defaults
 * `min_delay` 2 and `default_delay` 10), so a GIF written with 10 ms frames plays at 10 fps.
 */
export function gifFrameMs(delayCs: number): number {
  return delayCs <= 1 ? FALLBACK_FRAME_MS : delayCs * 10;
}

/** How long an animated WebP frame is shown: under WhatsApp's 8 ms minimum it becomes 100 ms. */
export function webpFrameMs(durationMs: number): number {
  return durationMs < STICKER_RULES.minFrameMs ? FALLBACK_FRAME_MS : durationMs;
}

/** How many frames a decoder goes through to show the first `limitMs` of an animation. */
export function framesStartedWithin(durationsMs: readonly number[], limitMs: number): number {
  let start = 0;
  let count = 0;
  for (const ms of durationsMs) {
    if (start >= limitMs) break;
    count += 1;
    start += ms;
  }
  return count;
}

/** The two bounds an animation is held to. */
export interface AnimationLimits {
  /** Largest canvas, in pixels (the engine's `maxInputPixels`). */
  maxInputPixels: number;
  /** Largest canvas × frames decoded for the sticker's clip (the engine's `maxAnimationPixels`). */
  maxAnimationPixels: number;
}

/**
 * Refuses an animation from its header, before anything decodes it. GIF and WebP decoders
 * composite every frame onto the whole canvas, however small the frame: the canvas is what
 * a frame costs in memory, and canvas × frames decoded (those that start within the clip)
 * is what the job costs in time. A tiny file can announce a huge canvas and thousands of
 * 1×1 frames. Frames are counted up to `clipMs` of the timeline (a sticker's clip by default).
 */
export function checkAnimationCost(
  canvas: { width: number; height: number },
  durationsMs: readonly number[],
  limits: AnimationLimits,
  clipMs = MAX_CLIP_SECONDS * 1000,
): void {
  checkPixels(canvas.width, canvas.height, limits.maxInputPixels);
  const frames = framesStartedWithin(durationsMs, clipMs);
  const work = canvas.width * canvas.height * frames;
  if (work > limits.maxAnimationPixels) {
    throw new StickerError(
      'TOO_MANY_PIXELS',
      `the animation is too big to convert: ${frames} frames of ${canvas.width}×${canvas.height} (${work} pixels to decode, more than ${limits.maxAnimationPixels})`,
      { details: { width: canvas.width, height: canvas.height, frames } },
    );
  }
}

/**
 * Checks a WebP's canvas (VP8X) and, when animated, its ANMF frames against the limits,
 * from the container alone. A container this parser cannot read is left to libvips, whose
 * own pixel limit applies.
 */
export function checkWebpCost(input: Buffer, limits: AnimationLimits): void {
  let container;
  try {
    container = parseWebp(input);
  } catch {
    return;
  }
  if (container.animated) {
    checkAnimationCost(container, container.frames.map((f) => webpFrameMs(f.durationMs)), limits);
  } else {
    checkPixels(container.width, container.height, limits.maxInputPixels);
  }
}
