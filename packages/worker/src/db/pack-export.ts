import type { BotDatabase } from './bot-database.js';
import type { StickerPack } from './pack-store.js';

/** A chat pack ready for `writeWastickers`: its title, author and sticker bytes in order. */
export interface PackExport {
  pack: StickerPack;
  title: string;
  author: string;
  stickers: Buffer[];
}

/** Why a pack cannot be picked by name: none, or several chats have one. */
export class PackChoiceError extends Error {
  override readonly name = 'PackChoiceError';
}

/**
 * The pack called `name` (in `chat`, when given) with its stickers from the catalogue; the
 * author is its maker's default pack author (`!pack Cats | Alice`), else empty.
 */
export function packForExport(db: BotDatabase, name: string, chat?: string): PackExport {
  const found = db.packs.named(name).filter((pack) => chat === undefined || pack.chat === chat);
  if (found.length === 0) throw new PackChoiceError(`no pack called "${name}"${chat === undefined ? '' : ` in ${chat}`}`);
  if (found.length > 1) {
    throw new PackChoiceError(`${found.length} chats have a pack called "${name}"; pick one with --chat: ${found.map((pack) => pack.chat).join(', ')}`);
  }
  const pack = found[0] as StickerPack;
  const stickers = pack.stickers.map((sha256) => db.catalogue.get(sha256)?.data).filter((data) => data !== undefined);
  return { pack, title: pack.name, author: db.settings.pack(pack.owner)?.author ?? '', stickers };
}
