import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { firstPlan, secondPlan, type AnimationPlan } from './animation-plan.js';
import { StickerError, throwIfAborted } from './errors.js';
import { checkPixels } from './image-sticker.js';
import { probeMedia, type MediaProbe } from './probe-media.js';
import { byteBudget, STICKER_RULES } from './rules.js';
import { runProcess } from './run-process.js';
import type { StickerShape } from './shape-mask.js';
import { withTempDir } from './temp-dir.js';
import type { ConvertRequest, EncodedSticker, EngineContext } from './types.js';
import { parseWebp, rewriteFrameDurations } from './webp-container.js';

const MAX_OUTPUT_BYTES = 32 * 1024 * 1024;
/** Clips longer than this get a one-second sample encode to predict their size. */
const SAMPLE_FROM_SECONDS = 5;
const SAMPLE_SECONDS = 1;
/** Re-plan before the full pass when the sample predicts more than this share of the budget. */
const PREDICTION_HEADROOM = 0.9;

/** The filter graph: fps → scale → rgba → pad/crop (→ alpha mask from input 1). */
export function filterGraph(plan: AnimationPlan, shape: StickerShape, masked: boolean): string {
  const size = STICKER_RULES.size;
  const side = plan.side;
  const fit =
    shape === 'fit'
      ? `scale=${side}:${side}:force_original_aspect_ratio=decrease,format=rgba,pad=${size}:${size}:(ow-iw)/2:(oh-ih)/2:color=0x00000000`
      : `scale=${side}:${side}:force_original_aspect_ratio=increase,crop=${side}:${side},format=rgba` +
        (side === size ? '' : `,pad=${size}:${size}:(ow-iw)/2:(oh-ih)/2:color=0x00000000`);
  const video = `[0:v]fps=${plan.fps},${fit}`;
  return masked ? `${video}[v];[1:v]format=gray,scale=${size}:${size}[m];[v][m]alphamerge` : video;
}

function encodeArgs(input: string, plan: AnimationPlan, shape: StickerShape, maskFile: string | undefined): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    ...(plan.start > 0 ? ['-ss', plan.start.toFixed(3)] : []),
    '-t', plan.seconds.toFixed(3), '-i', input,
    ...(maskFile === undefined ? [] : ['-loop', '1', '-i', maskFile]),
    '-an', '-sn', '-dn',
    '-filter_complex', filterGraph(plan, shape, maskFile !== undefined),
    // -compression_level alone (with -preset set, ffmpeg's libwebp wrapper ignores the level);
    // level 1 encodes about twice as fast as the default 4 for ~20% more bytes.
    '-c:v', 'libwebp_anim', '-lossless', '0', '-q:v', String(plan.quality), '-compression_level', '1',
    '-loop', '0', '-f', 'webp', 'pipe:1',
  ];
}

async function encodePass(
  ctx: EngineContext,
  input: string,
  plan: AnimationPlan,
  request: ConvertRequest,
  maskFile: string | undefined,
): Promise<EncodedSticker> {
  const result = await runProcess(ctx.ffmpeg(), {
    args: encodeArgs(input, plan, request.shape, maskFile),
    timeoutMs: ctx.ffmpegTimeoutMs,
    signal: request.signal,
    maxStdoutBytes: MAX_OUTPUT_BYTES,
  });
  if (result.exitCode !== 0 || result.stdout.length === 0) {
    throw new StickerError('FFMPEG_FAILED', `ffmpeg exited with ${result.exitCode}: ${result.stderr.trim().slice(-300)}`, {
      details: { stderr: result.stderr.slice(-2000) },
    });
  }
  const nominal = Math.round(1000 / plan.fps);
  // libwebp_anim gives the last frame a token duration; every frame must last ≥ 8 ms.
  const timed = rewriteFrameDurations(result.stdout, (ms) => (ms < STICKER_RULES.minFrameMs ? nominal : ms));
  const parsed = parseWebp(timed);
  return {
    data: request.finish(timed),
    animated: parsed.animated,
    frames: parsed.frames.length,
    durationMs: parsed.durationMs,
  };
}

/**
 * GIF or video → animated sticker with one ffmpeg process per pass, input through a per-job
 * temp file. `known` skips the ffmpeg probe when the caller already read the header (GIFs, via sharp).
 */
export async function stickerFromVideo(
  ctx: EngineContext,
  input: Buffer,
  extension: string,
  request: ConvertRequest,
  known?: MediaProbe,
): Promise<EncodedSticker> {
  return withTempDir(ctx.tempDir, async (dir) => {
    const file = join(dir, `input.${extension}`);
    await writeFile(file, input);
    throwIfAborted(request.signal);
    const probe = known ?? (await probeMedia(ctx.ffmpeg(), file, { timeoutMs: ctx.ffmpegTimeoutMs, signal: request.signal }));
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
    const budget = byteBudget(true);
    let plan = firstPlan(probe.durationSeconds, probe.video.fps);
    if (probe.durationSeconds !== undefined && probe.durationSeconds > SAMPLE_FROM_SECONDS) {
      // Long clips: encode one second from the middle first and size the real pass from it,
      // instead of encoding the whole clip twice when detailed footage blows the budget.
      const sample = await encodePass(ctx, file, { ...plan, start: plan.seconds / 2, seconds: SAMPLE_SECONDS }, request, maskFile).catch(
        (err: unknown) => {
          if (err instanceof StickerError && err.code === 'FFMPEG_FAILED') return undefined;
          throw err;
        },
      );
      if (sample !== undefined) {
        const predicted = (sample.data.length / Math.max(1, sample.frames)) * plan.fps * plan.seconds;
        if (predicted > budget * PREDICTION_HEADROOM) plan = secondPlan(plan, predicted, budget);
      }
    }
    let sticker = await encodePass(ctx, file, plan, request, maskFile);
    if (sticker.data.length > budget) {
      plan = secondPlan(plan, sticker.data.length, budget);
      sticker = await encodePass(ctx, file, plan, request, maskFile);
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
