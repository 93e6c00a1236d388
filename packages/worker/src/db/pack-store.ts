import type { SqliteDatabase } from '@stickerbot/runtime';

/** WhatsApp's pack rules: a pack holds 3 to 30 stickers, all static or all animated. */
export const PACK_RULES = { minStickers: 3, maxStickers: 30, maxNameLength: 64 } as const;

/** A sticker pack of one chat (`!pack new|add|show`). */
export interface StickerPack {
  id: number;
  chat: string;
  name: string;
  owner: string;
  createdAt: number;
  /** Catalogue hashes, in the order they were added. */
  stickers: string[];
}

/** Sticker packs, per chat; names are unique within a chat, case-insensitively. */
export interface PackStore {
  /** Creates a pack; undefined when the chat has one of that name already. */
  create(chat: string, name: string, owner: string): StickerPack | undefined;
  find(chat: string, name: string): StickerPack | undefined;
  /** The pack `owner` created last in `chat`. */
  latest(chat: string, owner: string): StickerPack | undefined;
  /** The chat's packs, oldest first. */
  list(chat: string): StickerPack[];
  /** Every chat's packs called `name`, oldest first (for exporting one by name). */
  named(name: string): StickerPack[];
  /** Appends a sticker; false when it is in the pack already. */
  add(packId: number, sha256: string): boolean;
}

interface PackRow {
  id: number;
  chat: string;
  name: string;
  owner: string;
  created_at: number;
}

/** The key a pack name is unique by: trimmed, spaces collapsed, lower-cased. */
export function packKey(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** The SQLite {@link PackStore}. */
export function createPackStore(db: SqliteDatabase, now: () => number = Date.now): PackStore {
  const insert = db.prepare<[string, string, string, string, number]>(
    'INSERT OR IGNORE INTO packs (chat, name, name_key, owner, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const byName = db.prepare<[string, string], PackRow>('SELECT id, chat, name, owner, created_at FROM packs WHERE chat = ? AND name_key = ?');
  const latest = db.prepare<[string, string], PackRow>(
    'SELECT id, chat, name, owner, created_at FROM packs WHERE chat = ? AND owner = ? ORDER BY created_at DESC, id DESC LIMIT 1',
  );
  const list = db.prepare<[string], PackRow>('SELECT id, chat, name, owner, created_at FROM packs WHERE chat = ? ORDER BY created_at, id');
  const named = db.prepare<[string], PackRow>('SELECT id, chat, name, owner, created_at FROM packs WHERE name_key = ? ORDER BY created_at, id');
  const members = db.prepare<[number], { sha256: string }>('SELECT sha256 FROM pack_stickers WHERE pack_id = ? ORDER BY position');
  const append = db.prepare<[number, number, string]>(
    `INSERT OR IGNORE INTO pack_stickers (pack_id, position, sha256)
     VALUES (?, (SELECT coalesce(max(position), 0) + 1 FROM pack_stickers WHERE pack_id = ?), ?)`,
  );
  const toPack = (row: PackRow | undefined): StickerPack | undefined =>
    row && { id: row.id, chat: row.chat, name: row.name, owner: row.owner, createdAt: row.created_at, stickers: members.all(row.id).map((m) => m.sha256) };
  return {
    create(chat, name, owner) {
      if (insert.run(chat, name, packKey(name), owner, now()).changes === 0) return undefined;
      return toPack(byName.get(chat, packKey(name)));
    },
    find: (chat, name) => toPack(byName.get(chat, packKey(name))),
    latest: (chat, owner) => toPack(latest.get(chat, owner)),
    list: (chat) => list.all(chat).map((row) => toPack(row) as StickerPack),
    named: (name) => named.all(packKey(name)).map((row) => toPack(row) as StickerPack),
    add: (packId, sha256) => append.run(packId, packId, sha256).changes > 0,
  };
}
