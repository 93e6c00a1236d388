import { availableParallelism, tmpdir } from 'node:os';
import sharp from 'sharp';
import { checkAnimationCost, checkWebpCost, gifFrameMs } from './animation-limits.js';
import { stickerFromAnimation } from './animation-sticker.js';
import { detectFormat, type InputFormat } from './detect-format.js';
import { StickerError } from './errors.js';
import { chooseFfmpeg, type FfmpegBinary } from './ffmpeg-binary.js';
import { scanGif } from './gif-frames.js';
import { stickerFromGif } from './gif-sticker.js';
import { checkPixels, sharpError, stickerFromImage } from './image-sticker.js';
import { perceptualHash } from './perceptual-hash.js';
import { createJobPool } from './job-pool.js';
import { locateMemoryCap, type MemoryCap } from './memory-cap.js';
import { byteBudget, STICKER_RULES } from './rules.js';
import { shapeMask, type StickerShape } from './shape-mask.js';
import { startSpawnHelper, type SpawnHelper } from './spawn-helper.js';
import { checkStickerRules } from './sticker-rules-check.js';
import { encodeStickerExif, randomPackId, readStickerMetadata, type StickerMetadata } from './sticker-metadata.js';
import { stickerFromText } from './text-sticker.js';
import { stickerToImage, type ImageResult } from './to-image.js';
import type { ConvertRequest, EncodedSticker, EngineContext, StickerEngineOptions, StickerInfo, StickerOptions, StickerResult } from './types.js';
import { stickerFromVideo } from './video-sticker.js';
import { parseWebp, replaceWebpExif } from './webp-container.js';

/** The sticker engine: bytes in, WhatsApp-valid WebP stickers out. */
export interface StickerEngine {
  /** Any supported image, GIF, video or sticker → sticker. Detects the format from the bytes. */
  toSticker(input: Uint8Array, options?: StickerOptions): Promise<StickerResult>;
  /** Re-tags an existing WebP sticker's pack metadata without re-encoding ("take"). Unset fields keep their old values. */
  retag(sticker: Uint8Array, metadata: Partial<Omit<StickerMetadata, 'packId'>> & { packId?: string }): Promise<StickerResult>;
  /** Renders text as a static sticker (white, black outline, DejaVu Sans Bold). */
  fromText(text: string, options?: StickerOptions): Promise<StickerResult>;
  /** Sticker → PNG (static) or MP4 (animated). */
  toImage(sticker: Uint8Array, options?: { signal?: AbortSignal }): Promise<ImageResult>;
  /** Dimensions, frames, duration, size and pack metadata of a WebP sticker. */
  info(sticker: Uint8Array): Promise<StickerInfo>;
  /** The perceptual hash (64-bit dHash, 16 hex digits) of an image, or of four frames of an animation, for finding near duplicates. */
  fingerprint(image: Uint8Array): Promise<string>;
  /** The ffmpeg binary the conversions run, its version and why it was chosen (runs it once, on first use). */
  ffmpeg(): Promise<FfmpegBinary>;
  /** Waits for running jobs and refuses new ones. */
  close(): Promise<void>;
}

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
/** Where ffmpeg and prlimit are looked for unless the caller passes its PATH: the system's directories. */
const DEFAULT_SEARCH_PATH = '/usr/local/bin:/usr/bin:/bin';

type Converter = (input: Buffer, request: ConvertRequest) => Promise<EncodedSticker>;

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function metadataFrom(options: StickerOptions | undefined): StickerMetadata {
  return {
    packId: options?.packId ?? randomPackId(),
    packName: options?.pack ?? '',
    publisher: options?.author ?? '',
    emojis: options?.emojis ?? [],
  };
}

function result(sticker: EncodedSticker): StickerResult {
  const problems = checkStickerRules(sticker.data);
  if (problems.length > 0) throw new StickerError('OVER_SIZE_BUDGET', `output breaks WhatsApp's sticker rules: ${problems.join('; ')}`);
  return { data: sticker.data, animated: sticker.animated, bytes: sticker.data.length, frames: sticker.frames, durationMs: sticker.durationMs };
}

/** True when an existing WebP already obeys every rule apart from its metadata, so only its EXIF needs changing. */
function isReusableSticker(input: Buffer): boolean {
  try {
    const parsed = parseWebp(input);
    const withRoom = input.length + 512 <= byteBudget(parsed.animated);
    const timed =
      !parsed.animated ||
      (parsed.durationMs <= STICKER_RULES.maxDurationMs && parsed.frames.every((f) => f.durationMs >= STICKER_RULES.minFrameMs));
    return parsed.width === STICKER_RULES.size && parsed.height === STICKER_RULES.size && withRoom && timed;
  } catch {
    return false;
  }
}

/** Runs synchronous work so that what it throws becomes a rejection. */
function settle<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}

function retagged(data: Buffer): EncodedSticker {
  const parsed = parseWebp(data);
  return { data, animated: parsed.animated, frames: parsed.frames.length, durationMs: parsed.durationMs };
}

/** Creates a sticker engine. Nothing is spawned or loaded until the first job. */
export function createStickerEngine(options: StickerEngineOptions = {}): StickerEngine {
  const pool = createJobPool(options.concurrency ?? availableParallelism());
  const maxInputBytes = options.maxInputBytes ?? 64 * MIB;
  const masks = new Map<StickerShape, Uint8Array | undefined>();
  let ffmpeg: Promise<FfmpegBinary> | undefined;
  let memoryCap: { cap: MemoryCap | undefined } | undefined;
  let spawnHelper: { helper: SpawnHelper | undefined } | undefined;
  const searchPath = options.searchPath ?? DEFAULT_SEARCH_PATH;
  const ctx: EngineContext = {
    // Chosen once per engine; a failed choice (e.g. a missing binary) is tried again next time.
    ffmpeg: () =>
      (ffmpeg ??= chooseFfmpeg({ option: options.ffmpegPath, pathEnv: searchPath }).catch((err: unknown) => {
        ffmpeg = undefined;
        throw err;
      })),
    ffmpegMemoryCap: () => (memoryCap ??= { cap: locateMemoryCap(options.ffmpegMemoryBytes ?? GIB, searchPath) }).cap,
    // Started on first use; one that died (killed from outside, out of memory) is replaced.
    spawnHelper: () => {
      if (spawnHelper?.helper?.isAlive() === false) spawnHelper = undefined;
      return (spawnHelper ??= { helper: startSpawnHelper() }).helper;
    },
    tempDir: options.tempDir ?? tmpdir(),
    maxInputPixels: options.maxInputPixels ?? 100_000_000,
    maxAnimationPixels: options.maxAnimationPixels ?? 1_000_000_000,
    maxVideoSeconds: options.maxVideoSeconds ?? 600,
    ffmpegTimeoutMs: options.ffmpegTimeoutMs ?? 60_000,
    mask: (shape) => {
      if (!masks.has(shape)) masks.set(shape, shapeMask(shape));
      return masks.get(shape);
    },
  };
  let closed = false;

  const imageOrAnimation = async (input: Buffer, request: ConvertRequest): Promise<EncodedSticker> => {
    checkWebpCost(input, ctx);
    let meta;
    try {
      meta = await sharp(input, { animated: true }).metadata();
    } catch (err) {
      throw sharpError(err);
    }
    const pageHeight = meta.pageHeight ?? meta.height;
    checkPixels(meta.width, pageHeight, ctx.maxInputPixels);
    const pages = meta.pages ?? 1;
    if (pages <= 1) return stickerFromImage(ctx, input, request, meta.hasAlpha);
    return stickerFromAnimation(ctx, input, { width: meta.width, pageHeight, pages, delay: meta.delay }, request);
  };

  // The block scan is the header read: the logical screen is the displayed size, the
  // delays give the timeline browsers play, and every frame's rectangle bounds the decoding.
  const gif = async (input: Buffer, request: ConvertRequest): Promise<EncodedSticker> => {
    const layout = scanGif(input);
    if (layout === undefined) return stickerFromImage(ctx, input, request);
    const durationsMs = layout.delaysCs.map(gifFrameMs);
    checkAnimationCost(layout.extent, durationsMs, ctx);
    if (layout.frames <= 1) return stickerFromImage(ctx, input, request);
    return stickerFromGif(ctx, input, { width: layout.width, height: layout.height, durationsMs }, request);
  };

  // JPEG and PNG skip the pixel check's metadata read: sharp's limitInputPixels refuses
  // oversized headers (a PNG's `fit` reads its header for the alpha channel, image-sticker.ts).
  const image = (input: Buffer, request: ConvertRequest): Promise<EncodedSticker> => stickerFromImage(ctx, input, request);

  const converters: Record<InputFormat, Converter> = {
    jpeg: image,
    png: image,
    gif,
    webp: async (input, request) =>
      isReusableSticker(input) && request.shape === 'fit' ? retagged(request.finish(input)) : imageOrAnimation(input, request),
    mp4: (input, request) => stickerFromVideo(ctx, input, 'mp4', request),
    webm: (input, request) => stickerFromVideo(ctx, input, 'webm', request),
  };

  const checkOpen = (): void => {
    if (closed) throw new StickerError('CLOSED', 'the sticker engine is closed');
  };

  const request = (options: StickerOptions | undefined): ConvertRequest => {
    const exif = encodeStickerExif(metadataFrom(options));
    return {
      shape: options?.shape ?? 'fit',
      cropPosition: options?.cropPosition ?? 'centre',
      signal: options?.signal,
      finish: (webp) => replaceWebpExif(webp, exif),
    };
  };

  return {
    async toSticker(input, stickerOptions) {
      checkOpen();
      if (input.length === 0) throw new StickerError('EMPTY_INPUT', 'the input is empty');
      if (input.length > maxInputBytes) {
        throw new StickerError('INPUT_TOO_LARGE', `the input is ${input.length} bytes, more than the ${maxInputBytes} accepted`);
      }
      const format = detectFormat(input);
      if (format === undefined) throw new StickerError('UNSUPPORTED_FORMAT', 'the input is not a JPEG, PNG, WebP, GIF, MP4, MOV or WebM');
      const req = request(stickerOptions);
      return pool.run(async () => result(await converters[format](toBuffer(input), req)), stickerOptions?.signal);
    },

    retag: (sticker, metadata) => settle(() => {
      checkOpen();
      if (sticker.length === 0) throw new StickerError('EMPTY_INPUT', 'the sticker is empty');
      const input = toBuffer(sticker);
      const parsed = parseWebp(input);
      if (parsed.width !== STICKER_RULES.size || parsed.height !== STICKER_RULES.size) {
        throw new StickerError('NOT_A_STICKER', `a sticker is ${STICKER_RULES.size}×${STICKER_RULES.size}, this WebP is ${parsed.width}×${parsed.height}`);
      }
      const old = readStickerMetadata(input);
      const merged: StickerMetadata = {
        packId: metadata.packId ?? old?.packId ?? randomPackId(),
        packName: metadata.packName ?? old?.packName ?? '',
        publisher: metadata.publisher ?? old?.publisher ?? '',
        emojis: metadata.emojis ?? old?.emojis ?? [],
      };
      return result(retagged(replaceWebpExif(input, encodeStickerExif(merged))));
    }),

    async fromText(text, stickerOptions) {
      checkOpen();
      const req = request(stickerOptions);
      return pool.run(async () => result(await stickerFromText(text, req)), stickerOptions?.signal);
    },

    async toImage(sticker, imageOptions) {
      checkOpen();
      if (sticker.length === 0) throw new StickerError('EMPTY_INPUT', 'the sticker is empty');
      return pool.run(() => stickerToImage(ctx, toBuffer(sticker), imageOptions?.signal), imageOptions?.signal);
    },

    info: (sticker) => settle(() => {
      if (sticker.length === 0) throw new StickerError('EMPTY_INPUT', 'the sticker is empty');
      const parsed = parseWebp(sticker);
      const metadata = readStickerMetadata(sticker);
      return {
        width: parsed.width,
        height: parsed.height,
        animated: parsed.animated,
        frames: parsed.frames.length,
        durationMs: parsed.durationMs,
        bytes: sticker.length,
        ...(metadata === undefined ? {} : { metadata }),
      };
    }),

    async fingerprint(image) {
      checkOpen();
      if (image.length === 0) throw new StickerError('EMPTY_INPUT', 'the image is empty');
      return pool.run(async () => {
        try {
          return await perceptualHash(image);
        } catch (err) {
          throw sharpError(err);
        }
      });
    },

    ffmpeg: () => ctx.ffmpeg(),

    async close() {
      closed = true;
      await pool.close();
      spawnHelper?.helper?.close();
    },
  };
}
