/**
 * Stable error codes of the sticker engine, each with the rule or situation it stands for.
 * Callers switch on `code`; the text is for logs and for the README's table.
 */
export const STICKER_ERROR_CODES = {
  EMPTY_INPUT: 'the input has no bytes',
  UNSUPPORTED_FORMAT: 'the bytes are not a JPEG, PNG, WebP, GIF, MP4, MOV or WebM',
  CORRUPT_INPUT: 'the input looks like a supported format but cannot be decoded (damaged or truncated)',
  INPUT_TOO_LARGE: 'the input is larger than maxInputBytes',
  TOO_MANY_PIXELS: 'the image, video frame or animation canvas has more pixels than maxInputPixels, the animation more than maxAnimationPixels, or ffmpeg ran out of its memory cap',
  VIDEO_TOO_LONG: 'the video is longer than maxVideoSeconds (shorter ones are clipped to under 10 s)',
  NO_VIDEO_STREAM: 'the container holds no video stream (audio only, subtitles, ...)',
  OVER_SIZE_BUDGET: 'no encoding fits WhatsApp’s byte limit (100,000 static, 500,000 animated)',
  TIMEOUT: 'the conversion ran past its deadline: ffmpeg was killed, or the in-process GIF decoding stopped',
  ABORTED: 'the caller’s AbortSignal fired',
  FFMPEG_FAILED: 'ffmpeg could not be started, or failed in a way no other code describes',
  NOT_A_STICKER: 'the input is not a WebP sticker (wrong format or not 512×512)',
  CLOSED: 'the engine was closed and takes no new jobs',
  TEXT_RENDER_FAILED: 'the text could not be rendered (no usable font, or empty text)',
  PACK_RULES: 'a pack to export breaks WhatsApp’s pack rules (3 to 30 valid stickers, static and animated not mixed, a 96×96 PNG tray icon)',
} as const;

/** One of the engine's stable error codes. */
export type StickerErrorCode = keyof typeof STICKER_ERROR_CODES;

/** The only error the engine throws on purpose; `code` is stable, `message` is for humans. */
export class StickerError extends Error {
  override readonly name = 'StickerError';
  /** Stable code, see STICKER_ERROR_CODES. */
  readonly code: StickerErrorCode;
  /** Extra facts for logs and tests (for TIMEOUT: the killed ffmpeg's `pid`). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: StickerErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details ?? {};
  }
}

/** True when `err` is a StickerError, optionally with the given code. */
export function isStickerError(err: unknown, code?: StickerErrorCode): err is StickerError {
  return err instanceof StickerError && (code === undefined || err.code === code);
}

/** Throws ABORTED if the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new StickerError('ABORTED', 'the conversion was aborted', { cause: signal.reason });
}
