import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { throwIfAborted } from './errors.js';
import { ffmpegFailure } from './ffmpeg-failure.js';
import { sharpError } from './image-sticker.js';
import { runProcess } from './run-process.js';
import { withTempDir } from './temp-dir.js';
import type { EngineContext } from './types.js';
import { parseWebp } from './webp-container.js';

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

/** Sticker → PNG (static) or H.264 MP4 on white (animated; MP4 has no alpha). */
export async function stickerToImage(ctx: EngineContext, sticker: Buffer, signal: AbortSignal | undefined): Promise<ImageResult> {
  const container = parseWebp(sticker);
  if (!container.animated) {
    try {
      return { data: await sharp(sticker).png().toBuffer(), mimetype: 'image/png' };
    } catch (err) {
      throw sharpError(err);
    }
  }
  const durations = container.frames.map((f) => Math.max(1, f.durationMs));
  const rate = videoRate(durations);
  let frames: Buffer;
  let width: number;
  let height: number;
  try {
    const { data, info } = await sharp(sticker, { animated: true })
      .flatten({ background: '#ffffff' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    frames = data;
    width = info.width;
    height = info.height / container.frames.length;
  } catch (err) {
    throw sharpError(err);
  }
  throwIfAborted(signal);
  const frameBytes = width * height * 3;
  const repeated: Buffer[] = [];
  container.frames.forEach((_, i) => {
    const frame = frames.subarray(i * frameBytes, (i + 1) * frameBytes);
    const copies = Math.max(1, Math.round((durations[i]! * rate) / 1000));
    for (let c = 0; c < copies; c += 1) repeated.push(frame);
  });
  return withTempDir(ctx.tempDir, async (dir) => {
    const output = join(dir, 'sticker.mp4');
    const result = await runProcess(ctx.ffmpeg(), {
      args: [
        '-hide_banner', '-loglevel', 'error', '-nostdin',
        '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(rate), '-i', 'pipe:0',
        '-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2',
        '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-movflags', '+faststart',
        output,
      ],
      stdin: Buffer.concat(repeated),
      timeoutMs: ctx.ffmpegTimeoutMs,
      signal,
      maxStdoutBytes: 1024,
    });
    if (result.exitCode !== 0) throw ffmpegFailure(result.exitCode, result.stderr);
    return { data: await readFile(output), mimetype: 'video/mp4' as const };
  });
}
