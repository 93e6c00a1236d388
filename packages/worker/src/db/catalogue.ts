import { createHash } from 'node:crypto';
import type { SqliteDatabase } from '@stickerbot/runtime';

/** A sticker in the catalogue. */
export interface CatalogueSticker {
  sha256: string;
  data: Buffer;
  animated: boolean;
  bytes: number;
  creator: string;
  chat: string;
  createdAt: number;
  timesMade: number;
  timesSent: number;
}

/** A sticker to add: the WebP bytes and who made it where. */
export interface NewSticker {
  data: Uint8Array;
  animated: boolean;
  creator: string;
  chat: string;
}

/** Aggregate numbers of the catalogue. */
export interface CatalogueTotals {
  stickers: number;
  made: number;
  sent: number;
}

/**
 * The content-addressed sticker catalogue: every sticker the bot made, keyed by the
 * sha256 of its bytes. Making the same sticker twice counts it twice and stores it once.
 */
export interface Catalogue {
  /** Adds a sticker (or counts it again) and returns its hash. */
  add(sticker: NewSticker): string;
  /** Counts one send of `sha256` as WhatsApp message `messageId`. */
  recordSent(sha256: string, sessionId: string, messageId: string): void;
  get(sha256: string): CatalogueSticker | undefined;
  /** The sticker the bot sent as message `messageId`, if it did. */
  bySentMessage(sessionId: string, messageId: string): CatalogueSticker | undefined;
  /** The sticker at `seed` modulo the catalogue size (deterministic, for replay-safe "random"). */
  pick(seed: number): CatalogueSticker | undefined;
  /** The most sent stickers, most first. */
  top(limit: number): CatalogueSticker[];
  totals(): CatalogueTotals;
  /** Stickers made by `creator` (counting repeats). */
  madeBy(creator: string): number;
  /** Forgets sent-message ids older than `cutoff` (the stickers stay). */
  pruneSent(cutoff: number): number;
}

interface StickerRow {
  sha256: string;
  data: Buffer;
  animated: number;
  bytes: number;
  creator: string;
  chat: string;
  created_at: number;
  times_made: number;
  times_sent: number;
}

function toSticker(row: StickerRow): CatalogueSticker {
  return {
    sha256: row.sha256,
    data: row.data,
    animated: row.animated === 1,
    bytes: row.bytes,
    creator: row.creator,
    chat: row.chat,
    createdAt: row.created_at,
    timesMade: row.times_made,
    timesSent: row.times_sent,
  };
}

/** The sha256 of some bytes, hex. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The SQLite {@link Catalogue}. */
export function createCatalogue(db: SqliteDatabase, now: () => number = Date.now): Catalogue {
  const columns = 'sha256, data, animated, bytes, creator, chat, created_at, times_made, times_sent';
  const insert = db.prepare<[string, Buffer, number, number, string, string, number]>(
    `INSERT INTO stickers (sha256, data, animated, bytes, creator, chat, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (sha256) DO UPDATE SET times_made = times_made + 1`,
  );
  const countSent = db.prepare<[number, string]>(
    'UPDATE stickers SET times_sent = times_sent + 1, last_sent_at = ? WHERE sha256 = ?',
  );
  const insertSent = db.prepare<[string, string, string, number]>(
    'INSERT OR IGNORE INTO sent_stickers (session_id, message_id, sha256, sent_at) VALUES (?, ?, ?, ?)',
  );
  const get = db.prepare<[string], StickerRow>(`SELECT ${columns} FROM stickers WHERE sha256 = ?`);
  const bySent = db.prepare<[string, string], StickerRow>(
    `SELECT ${columns.split(', ').map((c) => `s.${c}`).join(', ')} FROM sent_stickers t JOIN stickers s USING (sha256)
     WHERE t.session_id = ? AND t.message_id = ?`,
  );
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM stickers');
  const at = db.prepare<[number], StickerRow>(`SELECT ${columns} FROM stickers ORDER BY created_at, sha256 LIMIT 1 OFFSET ?`);
  const top = db.prepare<[number], StickerRow>(
    `SELECT ${columns} FROM stickers WHERE times_sent > 0 ORDER BY times_sent DESC, created_at DESC LIMIT ?`,
  );
  const totals = db.prepare<[], { stickers: number; made: number | null; sent: number | null }>(
    'SELECT count(*) AS stickers, sum(times_made) AS made, sum(times_sent) AS sent FROM stickers',
  );
  const madeBy = db.prepare<[string], { n: number | null }>('SELECT sum(times_made) AS n FROM stickers WHERE creator = ?');
  const pruneSent = db.prepare<[number]>('DELETE FROM sent_stickers WHERE sent_at < ?');
  const recordSent = db.transaction((sha256: string, sessionId: string, messageId: string) => {
    if (insertSent.run(sessionId, messageId, sha256, now()).changes > 0) countSent.run(now(), sha256);
  });

  return {
    add(sticker) {
      const data = Buffer.from(sticker.data.buffer, sticker.data.byteOffset, sticker.data.byteLength);
      const hash = sha256Hex(data);
      insert.run(hash, data, Number(sticker.animated), data.byteLength, sticker.creator, sticker.chat, now());
      return hash;
    },
    recordSent: (sha256, sessionId, messageId) => recordSent(sha256, sessionId, messageId),
    get(sha256) {
      const row = get.get(sha256);
      return row ? toSticker(row) : undefined;
    },
    bySentMessage(sessionId, messageId) {
      const row = bySent.get(sessionId, messageId);
      return row ? toSticker(row) : undefined;
    },
    pick(seed) {
      const n = count.get()?.n ?? 0;
      if (n === 0) return undefined;
      const row = at.get(Math.abs(Math.trunc(seed)) % n);
      return row ? toSticker(row) : undefined;
    },
    top: (limit) => top.all(limit).map(toSticker),
    totals() {
      const row = totals.get();
      return { stickers: row?.stickers ?? 0, made: row?.made ?? 0, sent: row?.sent ?? 0 };
    },
    madeBy: (creator) => madeBy.get(creator)?.n ?? 0,
    pruneSent: (cutoff) => pruneSent.run(cutoff).changes,
  };
}
