import { isStickerError } from './errors.js';
import { byteBudget, STICKER_RULES } from './rules.js';
import { decodeStickerExif } from './sticker-metadata.js';
import { parseWebp } from './webp-container.js';

/**
 * Checks a file against WhatsApp's sticker rules by reading its container (not by trusting
 * the encoder). Returns the broken rules as sentences; an empty array means valid.
 */
export function checkStickerRules(bytes: Uint8Array): string[] {
  let parsed;
  try {
    parsed = parseWebp(bytes);
  } catch (err) {
    return [isStickerError(err) ? err.message : 'not a readable WebP'];
  }
  const problems: string[] = [];
  const size = STICKER_RULES.size;
  if (parsed.width !== size || parsed.height !== size) problems.push(`canvas is ${parsed.width}×${parsed.height}, not ${size}×${size}`);
  const budget = byteBudget(parsed.animated);
  if (bytes.length > budget) problems.push(`${bytes.length} bytes, over the ${parsed.animated ? 'animated' : 'static'} limit of ${budget}`);
  if (parsed.animated) {
    if (parsed.durationMs > STICKER_RULES.maxDurationMs) problems.push(`lasts ${parsed.durationMs} ms, over ${STICKER_RULES.maxDurationMs} ms`);
    const short = parsed.frames.findIndex((f) => f.durationMs < STICKER_RULES.minFrameMs);
    if (short >= 0) problems.push(`frame ${short} lasts ${parsed.frames[short]!.durationMs} ms, under ${STICKER_RULES.minFrameMs} ms`);
    const outside = parsed.frames.findIndex((f) => f.x + f.width > parsed.width || f.y + f.height > parsed.height);
    if (outside >= 0) problems.push(`frame ${outside} lies outside the canvas`);
  }
  if (parsed.flags === undefined || !parsed.flags.exif) problems.push('no extended header with the EXIF flag');
  if (parsed.exif === undefined || decodeStickerExif(parsed.exif) === undefined) problems.push('no EXIF chunk with the sticker-pack JSON');
  return problems;
}
