import { StickerbotError } from '@stickerbot/protocol';
import { isStickerError, type StickerErrorCode } from '@stickerbot/sticker/errors';
import { ConverterCrashedError } from '../media/sticker-pool.js';

/** A failure whose message is meant for the chat user, in plain words. */
export class CommandFailure extends Error {
  override readonly name = 'CommandFailure';
}

const TRY_LATER = "WhatsApp isn't reachable from here right now. Please try again in a minute.";

const BRIDGE_WORDS: Partial<Record<StickerbotError['code'], string>> = {
  SESSION_NOT_CONNECTED: TRY_LATER,
  TIMEOUT: 'WhatsApp took too long to answer. Please try again in a minute.',
  CIRCUIT_OPEN: TRY_LATER,
  RATE_LIMITED: "I'm a bit busy right now. Please try again in a minute.",
  SHUTTING_DOWN: "I'm restarting. Please try again in a minute.",
  MESSAGE_NOT_FOUND: "I can't find that message any more. Please send the media again.",
};

const STICKER_WORDS: Record<StickerErrorCode, string> = {
  EMPTY_INPUT: 'That file is empty.',
  UNSUPPORTED_FORMAT: "I can't make a sticker from that kind of file. Send an image, GIF, video or sticker.",
  CORRUPT_INPUT: 'That file looks damaged; I could not read it.',
  INPUT_TOO_LARGE: 'That file is too large for me.',
  TOO_MANY_PIXELS: 'That picture or animation is too big for me to convert (too many pixels or frames). Try a smaller one.',
  VIDEO_TOO_LONG: 'That video is too long. Send a shorter clip.',
  NO_VIDEO_STREAM: "That video has no picture I can use.",
  OVER_SIZE_BUDGET: "I couldn't fit that into WhatsApp's sticker size limit. Try a shorter or simpler clip.",
  TIMEOUT: 'That took too long to convert. Try a smaller or shorter file.',
  ABORTED: "I'm restarting. Please send it again in a minute.",
  CLOSED: "I'm restarting. Please send it again in a minute.",
  FFMPEG_FAILED: "I couldn't convert that file. Please try another one.",
  NOT_A_STICKER: "That isn't a sticker I can read.",
  TEXT_RENDER_FAILED: "I couldn't draw that text. Try plainer words.",
  PACK_RULES: "That pack doesn't follow WhatsApp's rules (3 to 30 stickers, static and animated not mixed).",
};

/** Plain words for anything a command threw, for the chat. */
export function describeFailure(error: unknown, maxMediaBytes: number): string {
  if (error instanceof CommandFailure) return error.message;
  if (error instanceof StickerbotError) {
    if (error.code === 'MEDIA_TOO_LARGE') return tooLarge(maxMediaBytes);
    return BRIDGE_WORDS[error.code] ?? 'Something went wrong on my side. Please try again later.';
  }
  if (isStickerError(error)) return STICKER_WORDS[error.code];
  if (error instanceof ConverterCrashedError) return 'My converter crashed on that file. Please try another one.';
  return 'Something went wrong on my side. Please try again later.';
}

/** "That file is too large (the limit is 16 MB)." */
export function tooLarge(maxMediaBytes: number): string {
  const mb = maxMediaBytes / (1024 * 1024);
  return `That file is too large (the limit is ${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB).`;
}
