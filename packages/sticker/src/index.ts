export { createStickerEngine, type StickerEngine } from './engine.js';
export { STICKER_ERROR_CODES, StickerError, isStickerError, type StickerErrorCode } from './errors.js';
export { STICKER_RULES } from './rules.js';
export { CONVERTER_MALLOC_ENV, converterEnv } from './converter-env.js';
export type { StickerShape } from './shape-mask.js';
export {
  decodeStickerExif,
  encodeStickerExif,
  readStickerMetadata,
  type StickerMetadata,
} from './sticker-metadata.js';
export { hammingDistance, perceptualHash } from './perceptual-hash.js';
export { checkPackRules, PACK_LIMITS, trayIcon, writeWastickers, type StickerPackExport } from './wastickers.js';
export { checkStickerRules } from './sticker-rules-check.js';
export type { ImageResult } from './to-image.js';
export type { StickerEngineOptions, StickerInfo, StickerOptions, StickerResult } from './types.js';
export { detectFormat, type InputFormat } from './detect-format.js';
export { locateFfmpeg, type FfmpegSource } from './ffmpeg-locator.js';
export type { FfmpegBinary, FfmpegFeatures } from './ffmpeg-binary.js';
export {
  looksLikeWebp,
  parseWebp,
  replaceWebpExif,
  rewriteFrameDurations,
  webpImageData,
  type WebpChunk,
  type WebpContainer,
  type WebpFlags,
  type WebpFrame,
} from './webp-container.js';
