import { randomUUID } from 'node:crypto';
import { looksLikeWebp, parseWebp } from './webp-container.js';

/** The sticker-pack metadata WhatsApp reads from a sticker's EXIF chunk. */
export interface StickerMetadata {
  /** `sticker-pack-id`: groups stickers into one pack. */
  packId: string;
  /** `sticker-pack-name`. */
  packName: string;
  /** `sticker-pack-publisher`. */
  publisher: string;
  /** `emojis`: what the sticker expresses, used by WhatsApp's sticker search. */
  emojis: string[];
}

/** Tag 0x5741 ("WA"): the private EXIF tag WhatsApp tools store the pack JSON under. */
const WHATSAPP_TAG = 0x5741;
const TYPE_UNDEFINED = 7;

/** A fresh random pack id. */
export function randomPackId(): string {
  return randomUUID();
}

/**
 * Encodes the pack metadata as the EXIF payload WhatsApp and the common sticker tools
 * write: a little-endian TIFF header, one IFD with one entry (tag 0x5741, type UNDEFINED)
 * pointing at the UTF-8 JSON that follows at offset 22.
 */
export function encodeStickerExif(metadata: StickerMetadata): Buffer {
  const json = Buffer.from(
    JSON.stringify({
      'sticker-pack-id': metadata.packId,
      'sticker-pack-name': metadata.packName,
      'sticker-pack-publisher': metadata.publisher,
      emojis: metadata.emojis,
    }),
    'utf8',
  );
  const header = Buffer.alloc(22);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  header.writeUInt32LE(8, 4);
  header.writeUInt16LE(1, 8);
  header.writeUInt16LE(WHATSAPP_TAG, 10);
  header.writeUInt16LE(TYPE_UNDEFINED, 12);
  header.writeUInt32LE(json.length, 14);
  header.writeUInt32LE(22, 18);
  return Buffer.concat([header, json]);
}

function asStringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Decodes the pack JSON from an EXIF payload (either byte order); undefined if absent or malformed. */
export function decodeStickerExif(exif: Buffer): StickerMetadata | undefined {
  if (exif.length < 14) return undefined;
  const order = exif.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const le = order === 'II';
  const u16 = (o: number): number => (le ? exif.readUInt16LE(o) : exif.readUInt16BE(o));
  const u32 = (o: number): number => (le ? exif.readUInt32LE(o) : exif.readUInt32BE(o));
  const ifd = u32(4);
  if (ifd + 2 > exif.length) return undefined;
  const count = u16(ifd);
  for (let i = 0; i < count; i += 1) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > exif.length) return undefined;
    if (u16(entry) !== WHATSAPP_TAG) continue;
    const length = u32(entry + 4);
    const start = length <= 4 ? entry + 8 : u32(entry + 8);
    if (start + length > exif.length) return undefined;
    try {
      const json: unknown = JSON.parse(exif.toString('utf8', start, start + length));
      if (typeof json !== 'object' || json === null) return undefined;
      const record = json as Record<string, unknown>;
      const str = (key: string): string => (typeof record[key] === 'string' ? record[key] : '');
      return {
        packId: str('sticker-pack-id'),
        packName: str('sticker-pack-name'),
        publisher: str('sticker-pack-publisher'),
        emojis: asStringArray(record.emojis),
      };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Reads the sticker-pack metadata from a WebP sticker; undefined when it has none (or is not a WebP). */
export function readStickerMetadata(webp: Uint8Array): StickerMetadata | undefined {
  if (!looksLikeWebp(webp)) return undefined;
  try {
    const exif = parseWebp(webp).exif;
    return exif === undefined ? undefined : decodeStickerExif(exif);
  } catch {
    return undefined;
  }
}
