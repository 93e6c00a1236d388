import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { checkAnimationCost } from './animation-limits.js';
import { throwIfAborted } from './errors.js';
import { ffmpegFailure, ranOutOfMemory } from './ffmpeg-failure.js';
import { sharpError } from './image-sticker.js';
import { runProcess } from './run-process.js';
import { withTempDir } from './temp-dir.js';
import type { EngineContext } from './types.js';
import { parseWebp } from './webp-container.js';
import { webpCanvases } from './webp-frames.js';

/** What toImage returns. */
export interface ImageResult {
  data: Buffer;
  mimetype: 'image/png' | 'video/mp4';
}

/** Frame rate of the MP4; each sticker frame is repeated to approximate its own duration. */
function videoRate(durations: number[]): number {
  const shortest = Math.max(20, Math.min(...durations));
  return Math.min(50, Math.max(1, Math.round(1000 / shortest)));
}

/** RGBA → RGB flattened on white (MP4 has no alpha). */
function onWhite(rgba: Buffer): Buffer {
  const rgb = Buffer.alloc((rgba.length / 4) * 3);
  for (let p = 0, q = 0; p < rgba.length; p += 4, q += 3) {
    const a = rgba[p + 3]!;
    for (let c = 0; c < 3; c += 1) rgb[q + c] = Math.round((rgba[p + c]! * a + 255 * (255 - a)) / 255);
  }
  return rgb;
}

/** Sticker → PNG (static) or H.264 MP4 on white (animated; MP4 has no alpha). */
export async function stickerToImage(ctx: EngineContext, sticker: Buffer, signal: AbortSignal | undefined): Promise<ImageResult> {
  const container = parseWebp(sticker);
  if (!container.animated) {
    try {
      return { data: await sharp(sticker, { limitInputPixels: ctx.maxInputPixels }).png().toBuffer(), mimetype: 'image/png' };
    } catch (err) {
      throw sharpError(err);
    }
  }
  const durations = container.frames.map((f) => Math.max(1, f.durationMs));
  // Every frame becomes video, not only a sticker's first 10 s.
  checkAnimationCost(container, durations, ctx, Number.POSITIVE_INFINITY);
  const rate = videoRate(durations);
  const { width, height } = container;
  // One canvas at a time, each written as often as its duration needs at the video's rate.
  async function* frames(): AsyncGenerator<Buffer> {
    for await (const { rgba, durationMs } of webpCanvases(sticker, container)) {
      throwIfAborted(signal);
      const rgb = onWhite(rgba);
      const copies = Math.max(1, Math.round((Math.max(1, durationMs) * rate) / 1000));
      for (let c = 0; c < copies; c += 1) yield rgb;
    }
  }
  return withTempDir(ctx.tempDir, async (dir) => {
    const output = join(dir, 'sticker.mp4');
    const result = await runProcess((await ctx.ffmpeg()).path, {
      args: [
        '-hide_banner', '-loglevel', 'error', '-nostdin',
        '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(rate), '-i', 'pipe:0',
        '-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2',
        '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-movflags', '+faststart',
        output,
      ],
      stdin: frames(),
      timeoutMs: ctx.ffmpegTimeoutMs,
      signal,
      maxStdoutBytes: 1024,
      memoryCap: ctx.ffmpegMemoryCap(),
    });
    if (result.exitCode !== 0 || ranOutOfMemory(result.stderr)) throw ffmpegFailure(result.exitCode, result.stderr);
    return { data: await readFile(output), mimetype: 'video/mp4' as const };
  });
}
