import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeWithinBudget } from './animation-passes.js';
import type { AnimationPlan } from './animation-plan.js';
import { StickerError, throwIfAborted } from './errors.js';
import { ffmpegFailure, ranOutOfMemory } from './ffmpeg-failure.js';
import { createFrameStreamEncoder } from './frame-stream-encoder.js';
import { checkPixels, sharpError } from './image-sticker.js';
import { probeMp4 } from './mp4-probe.js';
import { probeMedia } from './probe-media.js';
import { STICKER_RULES } from './rules.js';
import { runProcess, type StdoutControl } from './run-process.js';
import type { StickerShape } from './shape-mask.js';
import { withTempDir } from './temp-dir.js';
import type { ConvertRequest, EncodedSticker, EngineContext } from './types.js';

/** Raw canvases ffmpeg may write in one pass: 10 s at 30 fps of 512² RGBA. */
const MAX_RAW_BYTES = 300 * STICKER_RULES.size * STICKER_RULES.size * 4;

/** The filter graph: fps → scale → rgba → pad/crop (→ alpha mask from input 1), whole 512² RGBA canvases out. */
export function filterGraph(plan: AnimationPlan, shape: StickerShape, masked: boolean): string {
  const size = STICKER_RULES.size;
  const side = plan.side;
  // Bilinear: about a third of the default bicubic's time, and no visible difference at sticker size.
  const scale = (mode: 'decrease' | 'increase'): string => `scale=${side}:${side}:force_original_aspect_ratio=${mode}:flags=bilinear`;
  const fit =
    shape === 'fit'
      ? `${scale('decrease')},format=rgba,pad=${size}:${size}:(ow-iw)/2:(oh-ih)/2:color=0x00000000`
      : `${scale('increase')},crop=${side}:${side},format=rgba` +
        (side === size ? '' : `,pad=${size}:${size}:(ow-iw)/2:(oh-ih)/2:color=0x00000000`);
  const video = `[0:v]fps=${plan.fps},${fit}`;
  return masked ? `${video}[v];[1:v]format=gray,scale=${size}:${size}[m];[v][m]alphamerge` : video;
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
  framesync: boolean,
  vp9AlphaDecoder: boolean,
): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    // One thread each: starting ffmpeg's per-core decoder and filter threads costs more
    // than they save at sticker size, and the frames are encoded on the other cores.
    '-filter_complex_threads', '1',
    ...(plan.start > 0 ? ['-ss', plan.start.toFixed(3)] : []),
    // libvpx's decoder for VP9 with alpha: FFmpeg's own would make the transparent parts black.
    ...(vp9AlphaDecoder ? ['-c:v', 'libvpx-vp9'] : []),
    '-threads', '1', '-t', plan.seconds.toFixed(3), '-i', input,
    ...(maskFile === undefined ? [] : maskInput(maskFile, framesync)),
    '-an', '-sn', '-dn',
    '-filter_complex', filterGraph(plan, shape, maskFile !== undefined),
    '-f', 'rawvideo', '-pix_fmt', 'rgba', 'pipe:1',
  ];
}

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
  dir: string,
  vp9Alpha: boolean,
): Promise<EncodedSticker> {
  const frameMs = 1000 / plan.fps;
  const encoder = createFrameStreamEncoder({
    size: STICKER_RULES.size,
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
    args: decodeArgs(input, plan, request.shape, maskFile, ffmpeg.framesync, vp9Alpha && ffmpeg.libvpx),
    timeoutMs: ctx.ffmpegTimeoutMs,
    signal: request.signal,
    maxStdoutBytes: MAX_RAW_BYTES,
    memoryCap: ctx.ffmpegMemoryCap(),
    stdoutSocketDir: dir,
    spawnHelper: ctx.spawnHelper(),
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

/**
 * Video → animated sticker with one ffmpeg process (decoding) per pass, input through a
 * per-job temp file (an MP4 may keep its index at the end). An MP4/MOV is probed from its
 * `moov` box in process; other containers by `ffmpeg -i`.
 */
export async function stickerFromVideo(ctx: EngineContext, input: Buffer, extension: string, request: ConvertRequest): Promise<EncodedSticker> {
  return withTempDir(ctx.tempDir, async (dir) => {
    const file = join(dir, `input.${extension}`);
    await writeFile(file, input);
    throwIfAborted(request.signal);
    const probe =
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
    return encodeWithinBudget(probe.durationSeconds, probe.video.fps, (plan, effort) =>
      encodePass(ctx, file, plan, request, maskFile, effort, dir, probe.video?.vp9Alpha === true),
    );
  });
}
