import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { StickerError } from './errors.js';

/**
 * Where the ffmpeg binary came from: the `ffmpegPath` option (which the worker and the CLI
 * fill from `FFMPEG_PATH`), `ffmpeg` on the search path, or the static build of
 * @ffmpeg-installer/ffmpeg.
 */
export type FfmpegSource = 'option' | 'path' | 'bundled';

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `ffmpeg` in the directories of a PATH value. */
export function findOnPath(pathEnv: string | undefined): string | undefined {
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'ffmpeg');
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** The static build of @ffmpeg-installer/ffmpeg, when it is installed for this platform. */
export function bundledFfmpeg(): string | undefined {
  try {
    const mod: unknown = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg');
    const path = typeof mod === 'object' && mod !== null ? (mod as { path?: unknown }).path : undefined;
    return typeof path === 'string' && isExecutable(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Finds an ffmpeg without running it: the explicit path, else `ffmpeg` on PATH, else the
 * static build of @ffmpeg-installer/ffmpeg. For fixtures and scripts; the engine uses
 * `chooseFfmpeg`, which also runs the candidate and skips an incomplete one.
 */
export function locateFfmpeg(explicit: string | undefined, pathEnv: string | undefined): { path: string; source: FfmpegSource } {
  if (explicit !== undefined) return { path: explicit, source: 'option' };
  const onPath = findOnPath(pathEnv);
  if (onPath !== undefined) return { path: onPath, source: 'path' };
  const bundled = bundledFfmpeg();
  if (bundled !== undefined) return { path: bundled, source: 'bundled' };
  throw new StickerError('FFMPEG_FAILED', 'no ffmpeg found: pass ffmpegPath, put ffmpeg on PATH or install @ffmpeg-installer/ffmpeg');
}
