import { ffmpegFailure } from './ffmpeg-failure.js';
import type { MemoryCap } from './memory-cap.js';
import { runProcess } from './run-process.js';

/** What ffmpeg says about a media file before any decoding. */
export interface MediaProbe {
  /** Container duration in seconds, undefined when ffmpeg reports N/A. */
  durationSeconds: number | undefined;
  /** First real video stream (cover art excluded), undefined when there is none. */
  video: { width: number; height: number; fps: number | undefined } | undefined;
}

/** Parses the stream summary `ffmpeg -i` prints to stderr. */
export function parseProbe(stderr: string): MediaProbe {
  const duration = /Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(stderr);
  const durationSeconds = duration === null ? undefined : Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]);
  let video: MediaProbe['video'];
  for (const line of stderr.split('\n')) {
    if (!/Stream #\d+:\d+.*: Video: /.test(line) || line.includes('(attached pic)')) continue;
    const size = /\b([1-9]\d{0,5})x([1-9]\d{0,5})\b/.exec(line.slice(line.indexOf('Video:')));
    if (size === null) continue;
    const fps = /([\d.]+) fps/.exec(line);
    video = { width: Number(size[1]), height: Number(size[2]), fps: fps === null ? undefined : Number(fps[1]) };
    break;
  }
  return { durationSeconds, video };
}

/** Runs `ffmpeg -i file` (no output) and reads the stream summary; CORRUPT_INPUT (or what ffmpeg's words say) when ffmpeg cannot open it. */
export async function probeMedia(
  ffmpeg: string,
  file: string,
  options: { timeoutMs: number; signal?: AbortSignal | undefined; memoryCap?: MemoryCap | undefined },
): Promise<MediaProbe> {
  const result = await runProcess(ffmpeg, {
    args: ['-hide_banner', '-nostdin', '-i', file],
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    maxStdoutBytes: 1024,
    memoryCap: options.memoryCap,
  });
  const probe = parseProbe(result.stderr);
  if (!result.stderr.includes('Input #0')) throw ffmpegFailure(result.exitCode, result.stderr, 'CORRUPT_INPUT');
  return probe;
}
