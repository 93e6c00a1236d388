import sharp from 'sharp';
import { StickerError } from './errors.js';
import { checkStickerRules } from './sticker-rules-check.js';
import { parseWebp } from './webp-container.js';
import { zipStore } from './zip-store.js';

/** WhatsApp's sticker pack rules. */
export const PACK_LIMITS = {
  minStickers: 3,
  maxStickers: 30,
  /** The tray icon: a square PNG of this side, under `maxTrayBytes`. */
  traySize: 96,
  maxTrayBytes: 50 * 1024,
  maxTitleLength: 128,
  maxAuthorLength: 128,
} as const;

/** A pack to export. */
export interface StickerPackExport {
  title: string;
  author: string;
  /** WebP stickers (512×512, within WhatsApp's rules), in pack order. */
  stickers: readonly Buffer[];
  /** PNG tray icon; default: the first sticker's first frame at 96×96. */
  tray?: Buffer;
}

/** Why `pack` breaks WhatsApp's pack rules, as sentences; `[]` when it is valid. */
export function checkPackRules(pack: Pick<StickerPackExport, 'title' | 'author' | 'stickers'>): string[] {
  const problems: string[] = [];
  const n = pack.stickers.length;
  if (n < PACK_LIMITS.minStickers || n > PACK_LIMITS.maxStickers) {
    problems.push(`a pack holds ${PACK_LIMITS.minStickers} to ${PACK_LIMITS.maxStickers} stickers, this one ${n}`);
  }
  if (pack.title.trim() === '' || pack.title.length > PACK_LIMITS.maxTitleLength) problems.push(`the title must be 1 to ${PACK_LIMITS.maxTitleLength} characters`);
  if (pack.author.length > PACK_LIMITS.maxAuthorLength) problems.push(`the author must be at most ${PACK_LIMITS.maxAuthorLength} characters`);
  const kinds = new Set<boolean>();
  pack.stickers.forEach((sticker, i) => {
    const broken = checkStickerRules(sticker);
    if (broken.length > 0) {
      problems.push(`sticker ${i + 1}: ${broken.join('; ')}`);
      return;
    }
    kinds.add(parseWebp(sticker).animated);
  });
  if (kinds.size > 1) problems.push('static and animated stickers cannot share a pack');
  return problems;
}

/** The first frame of a sticker as a 96×96 PNG tray icon. */
export async function trayIcon(sticker: Buffer): Promise<Buffer> {
  return sharp(sticker, { pages: 1 }).resize(PACK_LIMITS.traySize, PACK_LIMITS.traySize, { fit: 'contain', background: { r: 0, g: 0, b: 0, alpha: 0 } }).png({ compressionLevel: 9, palette: true }).toBuffer();
}

/**
 * A `.wastickers` file, the format sticker-maker apps import into WhatsApp: a zip of
 * `title.txt`, `author.txt`, the tray icon `tray.png` and the stickers `01.webp` … in
 * order. PACK_RULES when the pack breaks WhatsApp's rules (every problem named).
 */
export async function writeWastickers(pack: StickerPackExport): Promise<Buffer> {
  const problems = checkPackRules(pack);
  const tray = pack.tray ?? (pack.stickers[0] === undefined ? undefined : await trayIcon(pack.stickers[0]));
  if (tray !== undefined) {
    const meta = await sharp(tray).metadata();
    if (meta.format !== 'png' || meta.width !== PACK_LIMITS.traySize || meta.height !== PACK_LIMITS.traySize) {
      problems.push(`the tray icon must be a ${PACK_LIMITS.traySize}×${PACK_LIMITS.traySize} PNG`);
    } else if (tray.length > PACK_LIMITS.maxTrayBytes) problems.push(`the tray icon must be under ${PACK_LIMITS.maxTrayBytes} bytes`);
  }
  if (problems.length > 0 || tray === undefined) throw new StickerError('PACK_RULES', `the pack breaks WhatsApp's rules: ${problems.join('; ')}`, { details: { problems } });
  return zipStore([
    { name: 'title.txt', data: Buffer.from(pack.title, 'utf8') },
    { name: 'author.txt', data: Buffer.from(pack.author, 'utf8') },
    { name: 'tray.png', data: tray },
    ...pack.stickers.map((data, i) => ({ name: `${String(i + 1).padStart(2, '0')}.webp`, data })),
  ]);
}
