import type { FfmpegBinary } from './ffmpeg-binary.js';
import type { MemoryCap } from './memory-cap.js';
import type { StickerShape } from './shape-mask.js';
import type { SpawnHelper } from './spawn-helper.js';
import type { StickerMetadata } from './sticker-metadata.js';

/** Per-call options of toSticker and fromText. */
export interface StickerOptions {
  /** How the picture fills the square; default 'fit' (whole picture, transparent padding). */
  shape?: StickerShape;
  /** Where 'crop', 'circle' and 'rounded' cut from: the centre (default) or sharp's attention heuristic (images only). */
  cropPosition?: 'centre' | 'attention';
  /** `sticker-pack-name`; default ''. */
  pack?: string;
  /** `sticker-pack-publisher`; default ''. */
  author?: string;
  /** `emojis`; default []. */
  emojis?: string[];
  /** `sticker-pack-id`; default a random UUID. */
  packId?: string;
  /** Cancels the job: queued jobs never start, a running ffmpeg is killed. */
  signal?: AbortSignal;
}

/** A finished sticker. */
export interface StickerResult {
  /** WebP, 512×512, within WhatsApp's limits, with the pack metadata in EXIF. */
  data: Buffer;
  animated: boolean;
  /** data.length. */
  bytes: number;
  /** 1 for a static sticker. */
  frames: number;
  /** Total animation time in milliseconds, 0 for static. */
  durationMs: number;
}

/** What info() reports about a WebP sticker. */
export interface StickerInfo {
  width: number;
  height: number;
  animated: boolean;
  frames: number;
  durationMs: number;
  bytes: number;
  metadata?: StickerMetadata;
}

/** Engine-wide settings. */
export interface StickerEngineOptions {
  /**
   * ffmpeg binary, used as given (the worker and the CLI pass `FFMPEG_PATH`; the engine
   * reads no environment). Default: `ffmpeg` in `searchPath` if it runs and has what the
   * conversions need (a distribution's build gets security fixes), else the static 2018
   * build of @ffmpeg-installer/ffmpeg.
   */
  ffmpegPath?: string | undefined;
  /**
   * Directories, as a PATH value, where `ffmpeg` and util-linux `prlimit` are looked for
   * (the worker and the CLI pass their `PATH`). Default `/usr/local/bin:/usr/bin:/bin`.
   */
  searchPath?: string | undefined;
  /** Jobs converting at once; default os.availableParallelism(). */
  concurrency?: number;
  /** Where per-job temp folders go; default os.tmpdir(). */
  tempDir?: string;
  /** Largest input in bytes; default 64 MiB. */
  maxInputBytes?: number;
  /** Longest video accepted, in seconds; longer ones get VIDEO_TOO_LONG, shorter ones are clipped to under 10 s. Default 600. */
  maxVideoSeconds?: number;
  /** Largest image or video frame in pixels (width × height); default 100,000,000. */
  maxInputPixels?: number;
  /**
   * Largest GIF or animated WebP job: canvas pixels × frames decoded for the sticker (those
   * starting in its first 10 s), read from the header; default 1,000,000,000.
   */
  maxAnimationPixels?: number;
  /** Deadline of one ffmpeg run, and of a GIF's in-process decoding (checked between frames), in milliseconds; default 60,000. */
  ffmpegTimeoutMs?: number;
  /**
   * Address-space cap of each ffmpeg run in bytes, applied through util-linux `prlimit`
   * when it is on PATH (past it ffmpeg's allocations fail: TOO_MANY_PIXELS); 0 turns it
   * off. Default 1 GiB.
   */
  ffmpegMemoryBytes?: number;
}

/** Settings after defaults, shared by the conversion paths. */
export interface EngineContext {
  /** Chooses and inspects the ffmpeg binary on first use. */
  ffmpeg(): Promise<FfmpegBinary>;
  tempDir: string;
  maxInputPixels: number;
  maxAnimationPixels: number;
  maxVideoSeconds: number;
  ffmpegTimeoutMs: number;
  /** The address-space cap of ffmpeg runs, resolved on first use; undefined without `prlimit`. */
  ffmpegMemoryCap(): MemoryCap | undefined;
  /** The process that starts the video decoding's ffmpeg runs, started on first use; undefined if it cannot run. */
  spawnHelper(): SpawnHelper | undefined;
  /** Memoised alpha mask of a shape (undefined for 'fit' and 'crop'). */
  mask(shape: StickerShape): Uint8Array | undefined;
}

/** A path's output before the engine reports it: WebP bytes with the metadata already in. */
export interface EncodedSticker {
  data: Buffer;
  animated: boolean;
  frames: number;
  durationMs: number;
}

/** What every conversion path receives. */
export interface ConvertRequest {
  shape: StickerShape;
  cropPosition: 'centre' | 'attention';
  signal: AbortSignal | undefined;
  /** Adds the EXIF metadata to an encoded WebP; the result is what the byte budget applies to. */
  finish(webp: Buffer): Buffer;
}
