import { firstPlan, secondPlan, type AnimationPlan } from './animation-plan.js';
import { StickerError } from './errors.js';
import { byteBudget, STICKER_RULES } from './rules.js';
import type { EncodedSticker } from './types.js';

/** Clips longer than this get a one-second sample encode to predict their size. */
const SAMPLE_FROM_SECONDS = 5;
const SAMPLE_SECONDS = 1;
/** Re-plan before the full pass when the sample predicts more than this share of the budget. */
const PREDICTION_HEADROOM = 0.9;

/**
 * libwebp method of a first pass: 0 for clips up to 5 s (their bytes are far from the
 * budget; 0 is about 20% faster than 1), 1 for longer ones and for every re-encode, where
 * the ~25% fewer bytes buy quality.
 */
function firstEffort(plan: AnimationPlan): number {
  return plan.seconds <= SAMPLE_FROM_SECONDS ? 0 : 1;
}
const RETRY_EFFORT = 1;

/** One encode of the clip with a plan and a libwebp method. */
export type EncodePass = (plan: AnimationPlan, effort: number) => Promise<EncodedSticker>;

/**
 * Encodes an animation within the 500,000-byte budget: clips longer than 5 s first encode
 * one second from their middle and size the real pass from it (instead of encoding the
 * whole clip twice when detailed footage blows the budget); a result still over the
 * budget gets one predicted second pass (`secondPlan`), not a blind loop.
 */
export async function encodeWithinBudget(durationSeconds: number | undefined, sourceFps: number | undefined, pass: EncodePass): Promise<EncodedSticker> {
  const budget = byteBudget(true);
  let plan = firstPlan(durationSeconds, sourceFps);
  if (durationSeconds !== undefined && durationSeconds > SAMPLE_FROM_SECONDS) {
    const sample = await pass({ ...plan, start: plan.seconds / 2, seconds: SAMPLE_SECONDS }, firstEffort(plan)).catch((err: unknown) => {
      // A sample that fails only costs the prediction; the full pass reports its own error.
      if (err instanceof StickerError && (err.code === 'FFMPEG_FAILED' || err.code === 'CORRUPT_INPUT')) return undefined;
      throw err;
    });
    if (sample !== undefined) {
      const predicted = (sample.data.length / Math.max(1, sample.frames)) * plan.fps * plan.seconds;
      if (predicted > budget * PREDICTION_HEADROOM) plan = secondPlan(plan, predicted, budget);
    }
  }
  let sticker = await pass(plan, firstEffort(plan));
  if (sticker.data.length > budget) {
    plan = secondPlan(plan, sticker.data.length, budget);
    sticker = await pass(plan, RETRY_EFFORT);
  }
  if (sticker.data.length > budget) {
    throw new StickerError('OVER_SIZE_BUDGET', `animated sticker is ${sticker.data.length} bytes after the second pass (limit ${budget})`, {
      details: { plan },
    });
  }
  if (sticker.durationMs > STICKER_RULES.maxDurationMs) {
    throw new StickerError('FFMPEG_FAILED', `the animation came out ${sticker.durationMs} ms long, more than 10 s`);
  }
  return sticker;
}
