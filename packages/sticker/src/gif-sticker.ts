import { encodeWithinBudget } from './animation-passes.js';
import { giveBack, takeZeroed } from './buffer-pool.js';
import type { AnimationPlan } from './animation-plan.js';
import { StickerError, throwIfAborted } from './errors.js';
import { createFrameStreamEncoder, type Rect } from './frame-stream-encoder.js';
import { gifCanvases } from './gif-decoder.js';
import { sharpError } from './image-sticker.js';
import { createResizer, unionRegion, type Region } from './resize-rgba.js';
import { STICKER_RULES } from './rules.js';
import { applyMaskAt } from './shape-mask.js';
import type { ConvertRequest, EncodedSticker, EngineContext } from './types.js';

/** Frames being encoded at once before decoding waits: keeps memory at a few canvases. */
const MAX_FRAMES_IN_FLIGHT = 6;

/**
 * Where an unpadded `fit` picture of `source`'s shape sits on the canvas: even size and
 * offsets, the long side `side`.
 */
export function fitPlacement(source: { width: number; height: number }, side: number): Rect {
  const even = (n: number): number => Math.max(2, 2 * Math.round(n / 2));
  const width = source.width >= source.height ? side : even((side * source.width) / source.height);
  const height = source.width >= source.height ? even((side * source.height) / source.width) : side;
  const canvas = STICKER_RULES.size;
  return { x: 2 * Math.floor((canvas - width) / 4), y: 2 * Math.floor((canvas - height) / 4), width, height };
}

/**
 * Which frame each sticker frame shows: output frame n, at n frame times from `plan.start`,
 * shows the GIF frame on screen half a frame time later (ffmpeg's `fps` filter rounds to
 * the nearest output time the same way). `startsMs` are the GIF frames' start times.
 */
export function sampleFrames(startsMs: readonly number[], plan: AnimationPlan): number[] {
  const frameMs = 1000 / plan.fps;
  const count = Math.max(1, Math.round(plan.seconds * plan.fps));
  const shown: number[] = [];
  let k = 0;
  for (let n = 0; n < count; n += 1) {
    const t = plan.start * 1000 + (n + 0.5) * frameMs;
    while (k + 1 < startsMs.length && startsMs[k + 1]! < t) k += 1;
    shown.push(k);
  }
  return shown;
}

/** What the engine read from the GIF's header (`scanGif`): its screen and each frame's display time. */
export interface GifTimeline {
  width: number;
  height: number;
  durationsMs: readonly number[];
}

/**
 * Animated GIF → animated sticker, in process: the GIF is decoded here one canvas at a time
 * (`gif-decoder.ts`), the canvases the frame plan samples are resized in JavaScript
 * (`resize-rgba.ts`) and encoded as they come (`frame-stream-encoder.ts`), so no ffmpeg is
 * started and a hostile GIF never reaches a C decoder. `fit` pictures are resized to their
 * placement, unpadded.
 */
export async function stickerFromGif(ctx: EngineContext, input: Buffer, gif: GifTimeline, request: ConvertRequest): Promise<EncodedSticker> {
  if (gif.width === 0 || gif.height === 0) throw new StickerError('CORRUPT_INPUT', 'the GIF\'s logical screen is empty');
  const startsMs: number[] = [];
  let totalMs = 0;
  for (const ms of gif.durationsMs) {
    startsMs.push(totalMs);
    totalMs += ms;
  }
  const mask = ctx.mask(request.shape);
  // No ffmpeg runs to kill, so the job's own decoding keeps ffmpeg's deadline, checked between frames.
  const deadline = performance.now() + ctx.ffmpegTimeoutMs;
  const pass = async (plan: AnimationPlan, effort: number): Promise<EncodedSticker> => {
    const size = STICKER_RULES.size;
    const corner = 2 * Math.floor((size - plan.side) / 4);
    const placement = request.shape === 'fit' ? fitPlacement(gif, plan.side) : { x: corner, y: corner, width: plan.side, height: plan.side };
    // fit: the whole screen stretched to its placement; otherwise the centred square, as a cover resize cuts it.
    const side = Math.min(gif.width, gif.height);
    const region =
      request.shape === 'fit'
        ? { x: 0, y: 0, width: gif.width, height: gif.height }
        : { x: Math.floor((gif.width - side) / 2), y: Math.floor((gif.height - side) / 2), width: side, height: side };
    const resizer = createResizer(region, placement);
    const picture = takeZeroed(placement.width * placement.height * 4);
    const frameMs = 1000 / plan.fps;
    const encoder = createFrameStreamEncoder({
      size,
      frame: placement,
      quality: plan.quality,
      effort,
      durationOf: (i) => Math.round((i + 1) * frameMs) - Math.round(i * frameMs),
    });
    let settled: (() => void) | undefined;
    encoder.onSettled(() => settled?.());
    const shown = sampleFrames(startsMs, plan);
    const canvases = gifCanvases(input, shown[shown.length - 1]);
    let index = -1;
    let canvas: Buffer | undefined;
    // What changed since the last resize: only the output it reaches is resized again.
    let changed: Region | undefined;
    const masked = mask === undefined ? undefined : takeZeroed(picture.length);
    try {
      for (const wanted of shown) {
        while (index < wanted) {
          const step = canvases.next();
          if (step.done === true) break;
          canvas = step.value.rgba;
          changed = unionRegion(changed, step.value.changed);
          index += 1;
          if (performance.now() > deadline) {
            throw new StickerError('TIMEOUT', `decoding the GIF ran past its ${ctx.ffmpegTimeoutMs} ms deadline`, { details: { framesDecoded: index + 1 } });
          }
        }
        if (canvas === undefined) break;
        if (changed !== undefined) resizer.resize({ data: canvas, width: gif.width, height: gif.height }, picture, changed);
        changed = undefined;
        if (masked !== undefined && mask !== undefined) {
          picture.copy(masked);
          applyMaskAt(masked, placement, mask);
        }
        encoder.push(masked ?? picture);
        throwIfAborted(request.signal);
        // Let other work run between frames: a large GIF decodes for a while.
        await new Promise<void>((resolve) => setImmediate(resolve));
        while (encoder.inFlight() >= MAX_FRAMES_IN_FLIGHT) await new Promise<void>((resolve) => (settled = resolve));
      }
      const animation = await encoder.finish();
      return { data: request.finish(animation.webp), animated: animation.frames > 1, frames: animation.frames, durationMs: animation.durationMs };
    } catch (err) {
      throw sharpError(err);
    } finally {
      // The encoder copies what is pushed into it: nothing reads these any more.
      giveBack(masked === undefined ? [picture] : [picture, masked]);
    }
  };
  return encodeWithinBudget(totalMs / 1000, gif.durationsMs.length / (totalMs / 1000), pass);
}
