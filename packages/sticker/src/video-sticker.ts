import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { firstPlan, secondPlan, type AnimationPlan } from './animation-plan.js';
import { StickerError, throwIfAborted } from './errors.js';
import { ffmpegFailure, ranOutOfMemory } from './ffmpeg-failure.js';
import { createFrameStreamEncoder, type Rect } from './frame-stream-encoder.js';
import { checkPixels, sharpError } from './image-sticker.js';
import { probeMp4 } from './mp4-probe.js';
import { probeMedia, type MediaProbe } from './probe-media.js';
import { byteBudget, STICKER_RULES } from './rules.js';
import { runProcess, type StdoutControl } from './run-process.js';
import type { StickerShape } from './shape-mask.js';
import { withTempDir } from './temp-dir.js';
import type { ConvertRequest, EncodedSticker, EngineContext } from './types.js';

/** Raw canvases ffmpeg may write in one pass: 10 s at 30 fps of 512² RGBA. */
const MAX_RAW_BYTES = 300 * STICKER_RULES.size * STICKER_RULES.size * 4;
/** Clips longer than this get a one-second sample encode to predict their size. */
const SAMPLE_FROM_SECONDS = 5;
const SAMPLE_SECONDS = 1;
/** Re-plan before the full pass when the sample predicts more than this share of the budget. */
const PREDICTION_HEADROOM = 0.9;

/**
 * Where the scaler works: ffmpeg scales packed RGBA (what its GIF decoder gives) about 40%
 * slower than RGB, so a source known to be opaque is scaled without its alpha channel.
 */
const scaleInput = (opaque: boolean): string => (opaque ? 'format=rgb24,' : '');

/** The filter graph: fps → scale → rgba → pad/crop (→ alpha mask from input 1), whole 512² RGBA canvases out. */
export function filterGraph(plan: AnimationPlan, shape: StickerShape, masked: boolean, opaque = false): string {
  const size = STICKER_RULES.size;
  const side = plan.side;
  // Bilinear: about a third of the default bicubic's time, and no visible difference at sticker size.
  const scale = (mode: 'decrease' | 'increase'): string => `scale=${side}:${side}:force_original_aspect_ratio=${mode}:flags=bilinear`;
  const fit =
    shape === 'fit'
      ? `${scale('decrease')},format=rgba,pad=${size}:${size}:(ow-iw)/2:(oh-ih)/2:color=0x00000000`
      : `${scale('increase')},crop=${side}:${side},format=rgba` +
        (side === size ? '' : `,pad=${size}:${size}:(ow-iw)/2:(oh-ih)/2:color=0x00000000`);
  const video = `[0:v]fps=${plan.fps},${scaleInput(opaque)}${fit}`;
  return masked ? `${video}[v];[1:v]format=gray,scale=${size}:${size}[m];[v][m]alphamerge` : video;
}

/**
 * Where an unpadded `fit` picture of `source`'s shape sits on the canvas: even size and
 * offsets, the long side `plan.side`.
 */
export function fitPlacement(source: { width: number; height: number }, side: number): Rect {
  const even = (n: number): number => Math.max(2, 2 * Math.round(n / 2));
  const width = source.width >= source.height ? side : even((side * source.width) / source.height);
  const height = source.width >= source.height ? even((side * source.height) / source.width) : side;
  const canvas = STICKER_RULES.size;
  return { x: 2 * Math.floor((canvas - width) / 4), y: 2 * Math.floor((canvas - height) / 4), width, height };
}

/**
 * A still mask is held for every frame by a framesync build (FFmpeg 4.3 and later), where
 * looping it would keep the graph running forever; older builds pair frames one to one and
 * need it looped.
 */
export function maskInput(maskFile: string, framesync: boolean): string[] {
  return framesync ? ['-i', maskFile] : ['-loop', '1', '-i', maskFile];
}

function decodeArgs(
  input: string,
  plan: AnimationPlan,
  shape: StickerShape,
  maskFile: string | undefined,
  placement: Rect | undefined,
  opaque: boolean,
  framesync: boolean,
): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    // One thread each: starting ffmpeg's per-core decoder and filter threads costs more
    // than they save at sticker size, and the frames are encoded on the other cores.
    '-filter_complex_threads', '1',
    ...(plan.start > 0 ? ['-ss', plan.start.toFixed(3)] : []),
    '-threads', '1', '-t', plan.seconds.toFixed(3), '-i', input,
    ...(maskFile === undefined ? [] : maskInput(maskFile, framesync)),
    '-an', '-sn', '-dn',
    // An unpadded picture: fewer bytes through the pipe; the encoder puts it on the canvas.
    '-filter_complex',
    placement === undefined
      ? filterGraph(plan, shape, maskFile !== undefined, opaque)
      : `[0:v]fps=${plan.fps},${scaleInput(opaque)}scale=${placement.width}:${placement.height}:flags=bilinear,format=rgba`,
    '-f', 'rawvideo', '-pix_fmt', 'rgba', 'pipe:1',
  ];
}

/**
 * libwebp method of a first pass: 0 for clips up to 5 s (their bytes are far from the
 * budget; 0 is about 20% faster than 1), 1 for longer ones and for every re-encode, where
 * the ~25% fewer bytes buy quality.
 */
function firstEffort(plan: AnimationPlan): number {
  return plan.seconds <= SAMPLE_FROM_SECONDS ? 0 : 1;
}
const RETRY_EFFORT = 1;

/** Frames being encoded at once before ffmpeg's pipe is paused: keeps memory at a few canvases. */
const MAX_FRAMES_IN_FLIGHT = 6;

/**
 * One pass: ffmpeg decodes, samples, scales and masks into raw RGBA canvases on its stdout;
 * they are encoded here as they arrive (only what changed since the previous canvas) and
 * muxed into the animated WebP. libwebp in libvips is newer and faster than the one inside
 * the static ffmpeg build, and the frames encode in parallel.
 */
async function encodePass(
  ctx: EngineContext,
  input: string,
  plan: AnimationPlan,
  request: ConvertRequest,
  maskFile: string | undefined,
  effort: number,
  exactSource: KnownSource | undefined,
  dir: string,
): Promise<EncodedSticker> {
  const frameMs = 1000 / plan.fps;
  const placement = exactSource !== undefined && request.shape === 'fit' ? fitPlacement(exactSource, plan.side) : undefined;
  const encoder = createFrameStreamEncoder({
    size: STICKER_RULES.size,
    frame: placement,
    quality: plan.quality,
    effort,
    durationOf: (i) => Math.round((i + 1) * frameMs) - Math.round(i * frameMs),
  });
  let paused: StdoutControl | undefined;
  encoder.onSettled(() => {
    if (paused !== undefined && encoder.inFlight() < MAX_FRAMES_IN_FLIGHT) {
      paused.resume();
      paused = undefined;
    }
  });
  const ffmpeg = await ctx.ffmpeg();
  const result = await runProcess(ffmpeg.path, {
    args: decodeArgs(input, plan, request.shape, maskFile, placement, exactSource?.opaque ?? false, ffmpeg.framesync),
    timeoutMs: ctx.ffmpegTimeoutMs,
    signal: request.signal,
    maxStdoutBytes: MAX_RAW_BYTES,
    memoryCap: ctx.ffmpegMemoryCap(),
    stdoutSocketDir: dir,
    onStdout: (chunk, control) => {
      encoder.push(chunk);
      if (paused === undefined && encoder.inFlight() >= MAX_FRAMES_IN_FLIGHT) {
        control.pause();
        paused = control;
      }
    },
  });
  if (result.exitCode !== 0 || ranOutOfMemory(result.stderr)) throw ffmpegFailure(result.exitCode, result.stderr);
  let animation;
  try {
    animation = await encoder.finish();
  } catch (err) {
    throw sharpError(err);
  }
  throwIfAborted(request.signal);
  return {
    data: request.finish(animation.webp),
    animated: animation.frames > 1,
    frames: animation.frames,
    durationMs: animation.durationMs,
  };
}

/** What the caller read from a GIF's header: its logical screen is the displayed size (no rotation metadata). */
interface KnownSource {
  width: number;
  height: number;
  /** No frame can show a transparent pixel (`gifIsOpaque`): scale without alpha. */
  opaque: boolean;
}

/**
 * GIF or video → animated sticker with one ffmpeg process (decoding) per pass, input through a per-job
 * temp file. `known` skips the ffmpeg probe when the caller already read the header (GIFs,
 * their block scan); its size is then taken as the displayed size (no rotation metadata), which
 * lets `fit` frames leave ffmpeg unpadded.
 */
export async function stickerFromVideo(
  ctx: EngineContext,
  input: Buffer,
  extension: string,
  request: ConvertRequest,
  known?: MediaProbe & { opaque?: boolean },
): Promise<EncodedSticker> {
  return withTempDir(ctx.tempDir, async (dir) => {
    const file = join(dir, `input.${extension}`);
    await writeFile(file, input);
    throwIfAborted(request.signal);
    const probe =
      known ??
      (extension === 'mp4' ? probeMp4(input) : undefined) ??
      (await probeMedia((await ctx.ffmpeg()).path, file, { timeoutMs: ctx.ffmpegTimeoutMs, signal: request.signal, memoryCap: ctx.ffmpegMemoryCap() }));
    if (probe.video === undefined) throw new StickerError('NO_VIDEO_STREAM', 'the file has no video stream');
    checkPixels(probe.video.width, probe.video.height, ctx.maxInputPixels);
    if (probe.durationSeconds !== undefined && probe.durationSeconds > ctx.maxVideoSeconds) {
      throw new StickerError('VIDEO_TOO_LONG', `the video lasts ${Math.round(probe.durationSeconds)} s, more than the ${ctx.maxVideoSeconds} s accepted`, {
        details: { durationSeconds: probe.durationSeconds },
      });
    }
    const mask = ctx.mask(request.shape);
    let maskFile: string | undefined;
    if (mask !== undefined) {
      maskFile = join(dir, 'mask.pgm');
      await writeFile(maskFile, Buffer.concat([Buffer.from(`P5\n${STICKER_RULES.size} ${STICKER_RULES.size}\n255\n`), mask]));
    }
    const exactSource: KnownSource | undefined =
      known?.video === undefined ? undefined : { width: known.video.width, height: known.video.height, opaque: known.opaque ?? false };
    const budget = byteBudget(true);
    let plan = firstPlan(probe.durationSeconds, probe.video.fps);
    if (probe.durationSeconds !== undefined && probe.durationSeconds > SAMPLE_FROM_SECONDS) {
      // Long clips: encode one second from the middle first and size the real pass from it,
      // instead of encoding the whole clip twice when detailed footage blows the budget.
      const sample = await encodePass(ctx, file, { ...plan, start: plan.seconds / 2, seconds: SAMPLE_SECONDS }, request, maskFile, firstEffort(plan), exactSource, dir).catch(
        (err: unknown) => {
          // A sample that fails only costs the prediction; the full pass reports its own error.
          if (err instanceof StickerError && (err.code === 'FFMPEG_FAILED' || err.code === 'CORRUPT_INPUT')) return undefined;
          throw err;
        },
      );
      if (sample !== undefined) {
        const predicted = (sample.data.length / Math.max(1, sample.frames)) * plan.fps * plan.seconds;
        if (predicted > budget * PREDICTION_HEADROOM) plan = secondPlan(plan, predicted, budget);
      }
    }
    let sticker = await encodePass(ctx, file, plan, request, maskFile, firstEffort(plan), exactSource, dir);
    if (sticker.data.length > budget) {
      plan = secondPlan(plan, sticker.data.length, budget);
      sticker = await encodePass(ctx, file, plan, request, maskFile, RETRY_EFFORT, exactSource, dir);
    }
    if (sticker.data.length > budget) {
      throw new StickerError('OVER_SIZE_BUDGET', `animated sticker is ${sticker.data.length} bytes after the second pass (limit ${budget})`, {
        details: { plan },
      });
    }
    if (sticker.durationMs > STICKER_RULES.maxDurationMs) {
      throw new StickerError('FFMPEG_FAILED', `ffmpeg produced ${sticker.durationMs} ms of animation, more than 10 s`);
    }
    return sticker;
  });
}
