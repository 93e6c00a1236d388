import { createHash } from 'node:crypto';
import type { SqliteDatabase } from '@stickerbot/runtime';
import { hammingDistance } from '@stickerbot/sticker/hamming-distance';
import { MAX_TAGS } from './tags.js';

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

/** A sticker to add: the WebP bytes, who made it where, and what we know of its picture. */
export interface NewSticker {
  data: Uint8Array;
  animated: boolean;
  creator: string;
  chat: string;
  /** Its perceptual hash ({@link StickerEngine.fingerprint}); without it no near-duplicate lookup. */
  phash?: string | undefined;
  /** Catalogue tags (normalised, see tags.ts). */
  tags?: readonly string[] | undefined;
}

/** Aggregate numbers of the catalogue. */
export interface CatalogueTotals {
  stickers: number;
  made: number;
  sent: number;
}

/** Where a catalogue query is asked: what that chat may see. */
export interface CatalogueScope {
  chat: string;
}

/** A sticker with its ranking numbers. */
export interface RankedSticker extends CatalogueSticker {
  /** Sends and reactions counted by the query (all time, or since its cut-off). */
  score: number;
  reactions: number;
}

/** Two perceptual hashes at most this many bits apart show the same picture. */
export const MAX_DUPLICATE_DISTANCE = 3;

/**
 * The content-addressed sticker catalogue: every sticker the bot made, keyed by the
 * sha256 of its bytes. Making the same sticker twice counts it twice and stores it once;
 * a near duplicate (perceptual hash within {@link MAX_DUPLICATE_DISTANCE} bits of a
 * catalogued sticker of the same kind) is linked to that one instead of stored again.
 * A sticker is visible in the chats it was made or sent in, and everywhere once public.
 */
export interface Catalogue {
  /** Adds a sticker (or counts it again, or links it to its near duplicate) and returns the hash it is catalogued under. */
  add(sticker: NewSticker): string;
  /** The hash `sha256`'s bytes are catalogued under (itself, or the sticker it was linked to), if catalogued. */
  canonical(sha256: string): string | undefined;
  /** The catalogued sticker whose perceptual hash is nearest to `phash` within {@link MAX_DUPLICATE_DISTANCE}, same kind. */
  nearDuplicate(phash: string, animated: boolean): string | undefined;
  /** Counts one send of `sha256` as WhatsApp message `messageId`. */
  recordSent(sha256: string, sessionId: string, messageId: string): void;
  get(sha256: string): CatalogueSticker | undefined;
  /** The sticker the bot sent as message `messageId`, if it did. */
  bySentMessage(sessionId: string, messageId: string): CatalogueSticker | undefined;
  /** The visible sticker at `seed` modulo their number (deterministic, for replay-safe "random"). */
  pick(seed: number, scope: CatalogueScope): CatalogueSticker | undefined;
  /** The visible stickers with the most sends plus reactions (since `since`, epoch ms, if given), most first. */
  top(limit: number, scope: CatalogueScope, since?: number): RankedSticker[];
  /** Adds tags to a sticker; returns how many were new. */
  tag(sha256: string, tags: readonly string[]): number;
  tags(sha256: string): string[];
  /** Visible stickers with any of `tags`, most matching tags first, then most popular. */
  search(tags: readonly string[], scope: CatalogueScope, limit: number): RankedSticker[];
  /** Whether `scope`'s chat may see the sticker. */
  visible(sha256: string, scope: CatalogueScope): boolean;
  /** Makes a sticker visible everywhere (or only in its chats again). */
  setPublic(sha256: string, isPublic: boolean): void;
  /**
   * Records `sender`'s reaction to message `messageId` if the bot sent a sticker as it
   * (an empty emoji removes it); returns the sticker's hash, or undefined for other messages.
   */
  recordReaction(sessionId: string, messageId: string, sender: string, emoji: string): string | undefined;
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

/** The four 16-bit bands of a 16-hex-digit hash. */
export function hashBands(phash: string): [number, number, number, number] {
  return [0, 1, 2, 3].map((i) => Number.parseInt(phash.slice(i * 4, i * 4 + 4), 16)) as [number, number, number, number];
}

/**
 * The hashes `@chat` may see, read from two indexes (the chat's rows of `sticker_chats`,
 * the partial index of public stickers), so a query over them never walks the catalogue.
 */
const VISIBLE_SET = 'SELECT sha256 FROM sticker_chats WHERE chat = @chat UNION SELECT sha256 FROM stickers WHERE public = 1';
const VISIBLE = `s.sha256 IN (${VISIBLE_SET})`;

/** The SQLite {@link Catalogue}. */
export function createCatalogue(db: SqliteDatabase, now: () => number = Date.now): Catalogue {
  const columns = 'sha256, data, animated, bytes, creator, chat, created_at, times_made, times_sent';
  const s = columns.split(', ').map((c) => `s.${c}`).join(', ');
  const insert = db.prepare<[string, Buffer, number, number, string, string, number, string | null, ...Array<number | null>]>(
    `INSERT INTO stickers (sha256, data, animated, bytes, creator, chat, created_at, phash, band0, band1, band2, band3)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const madeAgain = db.prepare<[string]>('UPDATE stickers SET times_made = times_made + 1 WHERE sha256 = ?');
  const exists = db.prepare<[string], { sha256: string }>('SELECT sha256 FROM stickers WHERE sha256 = ?');
  const alias = db.prepare<[string], { canonical: string }>('SELECT canonical FROM sticker_aliases WHERE sha256 = ?');
  const insertAlias = db.prepare<[string, string]>('INSERT OR IGNORE INTO sticker_aliases (sha256, canonical) VALUES (?, ?)');
  const seen = db.prepare<[string, string]>('INSERT OR IGNORE INTO sticker_chats (sha256, chat) VALUES (?, ?)');
  const candidates = db.prepare<[{ b0: number; b1: number; b2: number; b3: number; animated: number }], { sha256: string; phash: string }>(
    `SELECT sha256, phash FROM stickers WHERE band0 = @b0 AND animated = @animated
     UNION SELECT sha256, phash FROM stickers WHERE band1 = @b1 AND animated = @animated
     UNION SELECT sha256, phash FROM stickers WHERE band2 = @b2 AND animated = @animated
     UNION SELECT sha256, phash FROM stickers WHERE band3 = @b3 AND animated = @animated`,
  );
  const countSent = db.prepare<[number, string]>(
    'UPDATE stickers SET times_sent = times_sent + 1, last_sent_at = ? WHERE sha256 = ?',
  );
  const insertSent = db.prepare<[string, string, string, number]>(
    'INSERT OR IGNORE INTO sent_stickers (session_id, message_id, sha256, sent_at) VALUES (?, ?, ?, ?)',
  );
  const get = db.prepare<[string], StickerRow>(`SELECT ${columns} FROM stickers WHERE sha256 = ?`);
  const bySent = db.prepare<[string, string], StickerRow>(
    `SELECT ${s} FROM sent_stickers t JOIN stickers s USING (sha256) WHERE t.session_id = ? AND t.message_id = ?`,
  );
  const sentAs = db.prepare<[string, string], { sha256: string }>('SELECT sha256 FROM sent_stickers WHERE session_id = ? AND message_id = ?');
  const count = db.prepare<[{ chat: string }], { n: number }>(`SELECT count(*) AS n FROM (${VISIBLE_SET})`);
  // Rankings and picks order hashes only, then read the few winners' bytes: sorting rows
  // that carry their WebP would hold every visible sticker's bytes in the sorter. They
  // read the covering index stickers_ranking, never the rows (the planner, without
  // statistics, would take the primary key's index and read every row).
  const at = db.prepare<[{ chat: string; offset: number }], StickerRow>(
    `SELECT ${columns} FROM stickers WHERE sha256 = (
       SELECT s.sha256 FROM stickers s INDEXED BY stickers_ranking WHERE ${VISIBLE} ORDER BY s.created_at, s.sha256 LIMIT 1 OFFSET @offset)`,
  );
  const reactionCount = '(SELECT count(*) FROM sticker_reactions r WHERE r.sha256 = s.sha256 AND r.reacted_at >= @since)';
  const top = db.prepare<[{ chat: string; since: number; limit: number }], StickerRow & { score: number; reactions: number }>(
    `WITH ranked AS (
       SELECT * FROM (SELECT s.sha256, s.created_at, ${reactionCount} AS reactions,
         CASE WHEN @since = 0 THEN s.times_sent
              ELSE (SELECT count(*) FROM sent_stickers t WHERE t.sha256 = s.sha256 AND t.sent_at >= @since) END + ${reactionCount} AS score
       FROM stickers s INDEXED BY stickers_ranking WHERE ${VISIBLE}) WHERE score > 0 ORDER BY score DESC, created_at DESC LIMIT @limit)
     SELECT ${s}, ranked.reactions, ranked.score FROM ranked JOIN stickers s USING (sha256) ORDER BY ranked.score DESC, s.created_at DESC`,
  );
  // CROSS JOIN keeps the chat's visible stickers the outer loop: a search costs what the
  // chat may see, not how often the tag occurs in the whole catalogue.
  const search = db.prepare<[{ chat: string; tags: string; limit: number; since: number }], StickerRow & { score: number; reactions: number }>(
    `WITH found AS (
       SELECT s.sha256, s.created_at, count(*) AS hits, ${reactionCount} AS reactions, s.times_sent + ${reactionCount} AS score
       FROM (${VISIBLE_SET}) v CROSS JOIN sticker_tags g ON g.sha256 = v.sha256 JOIN stickers s INDEXED BY stickers_ranking ON s.sha256 = v.sha256
       WHERE g.tag IN (SELECT value FROM json_each(@tags))
       GROUP BY s.sha256 ORDER BY hits DESC, score DESC, s.created_at DESC LIMIT @limit)
     SELECT ${s}, found.reactions, found.score FROM found JOIN stickers s USING (sha256) ORDER BY found.hits DESC, found.score DESC, s.created_at DESC`,
  );
  const insertTag = db.prepare<[string, string]>('INSERT OR IGNORE INTO sticker_tags (sha256, tag) VALUES (?, ?)');
  const tagsOf = db.prepare<[string], { tag: string }>('SELECT tag FROM sticker_tags WHERE sha256 = ? ORDER BY rowid');
  const tagCount = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM sticker_tags WHERE sha256 = ?');
  const visible = db.prepare<[{ chat: string; sha256: string }], { ok: number }>(`SELECT 1 AS ok FROM stickers s WHERE s.sha256 = @sha256 AND ${VISIBLE}`);
  const setPublic = db.prepare<[number, string]>('UPDATE stickers SET public = ? WHERE sha256 = ?');
  const upsertReaction = db.prepare<[string, string, string, string, string, number]>(
    `INSERT INTO sticker_reactions (session_id, message_id, sender, sha256, emoji, reacted_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (session_id, message_id, sender) DO UPDATE SET emoji = excluded.emoji`,
  );
  const deleteReaction = db.prepare<[string, string, string]>('DELETE FROM sticker_reactions WHERE session_id = ? AND message_id = ? AND sender = ?');
  const totals = db.prepare<[], { stickers: number; made: number | null; sent: number | null }>(
    'SELECT count(*) AS stickers, sum(times_made) AS made, sum(times_sent) AS sent FROM stickers',
  );
  const madeBy = db.prepare<[string], { n: number | null }>('SELECT sum(times_made) AS n FROM stickers WHERE creator = ?');
  const pruneSent = db.prepare<[number]>('DELETE FROM sent_stickers WHERE sent_at < ?');
  const recordSent = db.transaction((sha256: string, sessionId: string, messageId: string) => {
    if (insertSent.run(sessionId, messageId, sha256, now()).changes > 0) countSent.run(now(), sha256);
  });

  const canonical = (sha256: string) => exists.get(sha256)?.sha256 ?? alias.get(sha256)?.canonical;
  function nearDuplicate(phash: string, animated: boolean): string | undefined {
    let best: { sha256: string; distance: number } | undefined;
    const [b0, b1, b2, b3] = hashBands(phash);
    for (const row of candidates.all({ b0, b1, b2, b3, animated: Number(animated) })) {
      const distance = hammingDistance(phash, row.phash);
      if (distance <= MAX_DUPLICATE_DISTANCE && (!best || distance < best.distance)) best = { sha256: row.sha256, distance };
    }
    return best?.sha256;
  }
  function tag(sha256: string, tags: readonly string[]): number {
    let added = 0;
    for (const t of tags) {
      if ((tagCount.get(sha256)?.n ?? 0) >= MAX_TAGS) break;
      added += insertTag.run(sha256, t).changes;
    }
    return added;
  }
  const add = db.transaction((sticker: NewSticker): string => {
    const data = Buffer.from(sticker.data.buffer, sticker.data.byteOffset, sticker.data.byteLength);
    const hash = sha256Hex(data);
    let target = canonical(hash);
    if (target === undefined && sticker.phash !== undefined) {
      target = nearDuplicate(sticker.phash, sticker.animated);
      if (target !== undefined) insertAlias.run(hash, target);
    }
    if (target === undefined) {
      const bands = sticker.phash === undefined ? [null, null, null, null] : hashBands(sticker.phash);
      insert.run(hash, data, Number(sticker.animated), data.byteLength, sticker.creator, sticker.chat, now(), sticker.phash ?? null, ...bands);
      target = hash;
    } else {
      madeAgain.run(target);
    }
    seen.run(target, sticker.chat);
    if (sticker.tags) tag(target, sticker.tags);
    return target;
  });
  const ranked = (row: StickerRow & { score: number; reactions: number }): RankedSticker => ({ ...toSticker(row), score: row.score, reactions: row.reactions });

  return {
    add: (sticker) => add(sticker),
    canonical,
    nearDuplicate,
    recordSent: (sha256, sessionId, messageId) => recordSent(sha256, sessionId, messageId),
    get(sha256) {
      const row = get.get(sha256);
      return row ? toSticker(row) : undefined;
    },
    bySentMessage(sessionId, messageId) {
      const row = bySent.get(sessionId, messageId);
      return row ? toSticker(row) : undefined;
    },
    pick(seed, scope) {
      const n = count.get({ chat: scope.chat })?.n ?? 0;
      if (n === 0) return undefined;
      const row = at.get({ chat: scope.chat, offset: Math.abs(Math.trunc(seed)) % n });
      return row ? toSticker(row) : undefined;
    },
    top: (limit, scope, since = 0) => top.all({ chat: scope.chat, since, limit }).map(ranked),
    tag: db.transaction(tag),
    tags: (sha256) => tagsOf.all(sha256).map((row) => row.tag),
    search: (tags, scope, limit) =>
      tags.length === 0 ? [] : search.all({ chat: scope.chat, tags: JSON.stringify(tags), limit, since: 0 }).map(ranked),
    visible: (sha256, scope) => visible.get({ chat: scope.chat, sha256 }) !== undefined,
    setPublic: (sha256, isPublic) => void setPublic.run(Number(isPublic), sha256),
    recordReaction(sessionId, messageId, sender, emoji) {
      const sha256 = sentAs.get(sessionId, messageId)?.sha256;
      if (sha256 === undefined) return undefined;
      if (emoji === '') deleteReaction.run(sessionId, messageId, sender);
      else upsertReaction.run(sessionId, messageId, sender, sha256, emoji, now());
      return sha256;
    },
    totals() {
      const row = totals.get();
      return { stickers: row?.stickers ?? 0, made: row?.made ?? 0, sent: row?.sent ?? 0 };
    },
    madeBy: (creator) => madeBy.get(creator)?.n ?? 0,
    pruneSent: (cutoff) => pruneSent.run(cutoff).changes,
  };
}
