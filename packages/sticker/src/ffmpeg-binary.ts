import { StickerError } from './errors.js';
import { bundledFfmpeg, findOnPath, type FfmpegSource } from './ffmpeg-locator.js';
import { runProcess } from './run-process.js';

/** What running an ffmpeg binary once tells about it. */
export interface FfmpegFeatures {
  /** The version in its banner: `5.1.9-0+deb12u1`, `7.1`, or a git build's `N-47683-g0e8eb07980-static`. */
  version: string;
  /**
   * Its two-input filters (alphamerge) pair frames by timestamp (framesync, FFmpeg 4.3 and
   * later): a still mask is read once and held for every frame, and a looped one would never
   * let the graph end. Older builds pair frames one to one and need the mask looped.
   */
  framesync: boolean;
  /** It has libvpx (`--enable-libvpx`), whose VP9 decoder keeps a WebM's alpha channel (Telegram video stickers). */
  libvpx: boolean;
  /** What the conversions need and this build lacks; empty when it can do everything. */
  missing: string[];
}

/** The ffmpeg binary an engine runs, and why it was chosen. */
export interface FfmpegBinary extends FfmpegFeatures {
  path: string;
  source: FfmpegSource;
  /** One sentence for logs and `pnpm sticker --ffmpeg`. */
  reason: string;
}

/** Where to look; reading the environment is the caller's job. */
export interface FfmpegSearch {
  /** The `ffmpegPath` option (the worker and the CLI pass `FFMPEG_PATH`). */
  option?: string | undefined;
  /** Directories to look for `ffmpeg` in, a PATH value (the engine's `searchPath`). */
  pathEnv?: string | undefined;
}

/** Inspecting is not a conversion: a short conversion deadline must not fail it. */
const INSPECT_TIMEOUT_MS = 30_000;

/** Parses the output of `ffmpeg -h filter=alphamerge`: the banner on stderr, the filter's help on stdout. */
export function parseFfmpegFeatures(stdout: string, stderr: string): FfmpegFeatures {
  const version = /ffmpeg version (\S+)/.exec(stderr)?.[1];
  if (version === undefined) return { version: 'unknown', framesync: false, libvpx: false, missing: ['a version banner (is it ffmpeg?)'] };
  const missing: string[] = [];
  if (!stdout.includes('Filter alphamerge')) missing.push('the alphamerge filter (circle and rounded animated stickers)');
  if (!stderr.includes('--enable-libx264')) missing.push('the libx264 encoder (animated stickers back to MP4)');
  return { version, framesync: stdout.includes('framesync AVOptions'), libvpx: stderr.includes('--enable-libvpx'), missing };
}

/** Runs the binary once (`-h filter=alphamerge`) and reads its version and abilities; FFMPEG_FAILED if it cannot run. */
export async function inspectFfmpeg(path: string): Promise<FfmpegFeatures> {
  const result = await runProcess(path, { args: ['-h', 'filter=alphamerge'], timeoutMs: INSPECT_TIMEOUT_MS, maxStdoutBytes: 256 * 1024 });
  if (result.exitCode !== 0) {
    throw new StickerError('FFMPEG_FAILED', `${path} -h exited with ${result.exitCode}: ${result.stderr.trim().slice(-300)}`);
  }
  return parseFfmpegFeatures(result.stdout.toString('utf8'), result.stderr);
}

const BUNDLED_WARNING = 'a static build from 2018 whose decoders get no security fixes: install your distribution’s ffmpeg';

/** What inspecting a binary found: its features, or why it does not run. */
type Inspection = FfmpegFeatures | StickerError;

async function tryInspect(path: string): Promise<Inspection> {
  try {
    return await inspectFfmpeg(path);
  } catch (err) {
    if (err instanceof StickerError) return err;
    throw err;
  }
}

const runs = (found: Inspection | undefined): found is FfmpegFeatures => found !== undefined && !(found instanceof StickerError);

function explain(found: Inspection): string {
  return found instanceof StickerError ? `does not run (${found.message})` : `lacks ${found.missing.join(', ')}`;
}

/** How the reason names the `ffmpegPath` option: its callers fill it from `FFMPEG_PATH`. */
const NAMED_BY = 'ffmpegPath (FFMPEG_PATH for the worker and the CLI)';

/**
 * Chooses the binary: one named by the option is used as given; otherwise `ffmpeg` on
 * PATH (a distribution's build, whose decoders get security updates) if it runs and has
 * what the conversions need, else the bundled static build.
 */
export async function chooseFfmpeg(search: FfmpegSearch): Promise<FfmpegBinary> {
  if (search.option !== undefined) {
    const found = await tryInspect(search.option);
    if (!runs(found)) throw new StickerError('FFMPEG_FAILED', `cannot run the ffmpeg named by ${NAMED_BY}: ${found.message}`, { cause: found });
    const gaps = found.missing.length > 0 ? `; it ${explain(found)}` : '';
    return { path: search.option, source: 'option', ...found, reason: `named by ${NAMED_BY}${gaps}` };
  }

  const onPath = findOnPath(search.pathEnv);
  const fromPath = onPath === undefined ? undefined : await tryInspect(onPath);
  if (onPath !== undefined && runs(fromPath) && fromPath.missing.length === 0) {
    const reason = 'ffmpeg on PATH: a distribution’s build gets security fixes for its decoders, so it is preferred over the bundled 2018 build';
    return { path: onPath, source: 'path', ...fromPath, reason };
  }
  const bundled = bundledFfmpeg();
  const fromBundle = bundled === undefined ? undefined : await tryInspect(bundled);
  if (bundled !== undefined && runs(fromBundle)) {
    const why = onPath === undefined || fromPath === undefined ? 'no ffmpeg on PATH' : `the ffmpeg on PATH (${onPath}) ${explain(fromPath)}`;
    return { path: bundled, source: 'bundled', ...fromBundle, reason: `${why}: using the bundled @ffmpeg-installer/ffmpeg, ${BUNDLED_WARNING}` };
  }
  // A PATH binary with gaps still beats none: what it lacks fails only the jobs that need it.
  if (onPath !== undefined && runs(fromPath)) {
    return { path: onPath, source: 'path', ...fromPath, reason: `ffmpeg on PATH, the only one that runs; it ${explain(fromPath)}` };
  }
  throw new StickerError('FFMPEG_FAILED', 'no usable ffmpeg: pass ffmpegPath (FFMPEG_PATH for the worker and the CLI), put ffmpeg on PATH or install @ffmpeg-installer/ffmpeg');
}
