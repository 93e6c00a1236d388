import { STICKER_RULES } from './rules.js';

/** The knobs of one ffmpeg encode of an animated sticker. */
export interface AnimationPlan {
  /** Where in the input to start, in seconds (0 except for the size sample). */
  start: number;
  /** Seconds of input to use (clipped to just under 10 s). */
  seconds: number;
  fps: number;
  /** libwebp quality 0–100. */
  quality: number;
  /** Side of the picture inside the 512 canvas (smaller only as a last resort, padded transparent). */
  side: number;
}

/** Clips land just under WhatsApp's 10 s so rounding of frame times can never push them over. */
export const MAX_CLIP_SECONDS = 9.9;
const MIN_FPS = 4;
/**
 * Clips up to this long get 15 fps, longer ones 10 fps (the classic GIF rate of 100 ms
 * frames): every frame is a libwebp encode, so the frame rate is the conversion's cost.
 */
const SMOOTH_UP_TO_SECONDS = 2;
const MIN_QUALITY = 15;
const MIN_SIDE = 320;
/** Byte model: size ≈ frames × side² × k·(quality + QUALITY_OFFSET), fitted on 512² lossy libwebp output. */
const QUALITY_OFFSET = 23.5;
/** Aim below the budget so the prediction's error does not need a third pass. */
const SAFETY = 0.85;

/** First-pass plan from the input's duration and frame rate: shorter clips get smoother motion. */
export function firstPlan(durationSeconds: number | undefined, sourceFps: number | undefined): AnimationPlan {
  const seconds = Math.min(durationSeconds ?? MAX_CLIP_SECONDS, MAX_CLIP_SECONDS);
  const wanted = seconds <= SMOOTH_UP_TO_SECONDS ? 15 : 10;
  const fps = sourceFps !== undefined && sourceFps > 0 && sourceFps < wanted ? Math.max(1, Math.round(sourceFps)) : wanted;
  return { start: 0, seconds, fps, quality: 45, side: STICKER_RULES.size };
}

/**
 * The one predicted second pass after `bytes` came out over `budget`: lowers quality and
 * frame rate in equal shares of the needed reduction, then the picture size if both hit
 * their floor.
 */
export function secondPlan(previous: AnimationPlan, bytes: number, budget: number): AnimationPlan {
  const needed = (budget * SAFETY) / bytes;
  const share = Math.sqrt(needed);
  const quality = Math.max(MIN_QUALITY, Math.min(previous.quality, Math.floor((previous.quality + QUALITY_OFFSET) * share - QUALITY_OFFSET)));
  const qualityFactor = (quality + QUALITY_OFFSET) / (previous.quality + QUALITY_OFFSET);
  const fps = Math.max(MIN_FPS, Math.min(previous.fps, Math.floor(previous.fps * (needed / qualityFactor))));
  const fpsFactor = fps / previous.fps;
  const rest = needed / (qualityFactor * fpsFactor);
  const side = rest >= 1 ? previous.side : Math.max(MIN_SIDE, 2 * Math.floor((previous.side * Math.sqrt(rest)) / 2));
  return { start: previous.start, seconds: previous.seconds, fps, quality, side };
}
