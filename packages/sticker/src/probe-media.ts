import { ffmpegFailure } from './ffmpeg-failure.js';
import type { MemoryCap } from './memory-cap.js';
import { runProcess } from './run-process.js';

/** What ffmpeg says about a media file before any decoding. */
export interface MediaProbe {
  /** Container duration in seconds, undefined when ffmpeg reports N/A. */
  durationSeconds: number | undefined;
  /** First real video stream (cover art excluded), undefined when there is none. */
  video: { width: number; height: number; fps: number | undefined; vp9Alpha?: true } | undefined;
}

/**
 * VP9 with an alpha channel (Telegram's video stickers): WebM keeps the alpha plane as side
 * data (`alpha_mode: 1`) that FFmpeg's own vp9 decoder drops; libvpx's decoder reads it.
 */
function hasVp9Alpha(line: string, following: readonly string[]): boolean {
  if (!/Video: vp9\b/.test(line)) return false;
  for (const next of following) {
    if (/Stream #/.test(next)) return false;
    if (/^\s*alpha_mode\s*:\s*1\s*$/.test(next)) return true;
  }
  return false;
}

/** Parses the stream summary `ffmpeg -i` prints to stderr. */
export function parseProbe(stderr: string): MediaProbe {
  const duration = /Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(stderr);
  const durationSeconds = duration === null ? undefined : Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]);
  let video: MediaProbe['video'];
  const lines = stderr.split('\n');
  for (const [i, line] of lines.entries()) {
    if (!/Stream #\d+:\d+.*: Video: /.test(line) || line.includes('(attached pic)')) continue;
    const size = /\b([1-9]\d{0,5})x([1-9]\d{0,5})\b/.exec(line.slice(line.indexOf('Video:')));
    if (size === null) continue;
    const fps = /([\d.]+) fps/.exec(line);
    video = {
      width: Number(size[1]),
      height: Number(size[2]),
      fps: fps === null ? undefined : Number(fps[1]),
      ...(hasVp9Alpha(line, lines.slice(i + 1)) ? { vp9Alpha: true as const } : {}),
    };
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
