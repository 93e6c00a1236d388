-- The sticker catalogue grows tags, visibility, reactions, near-duplicate links and packs.

-- Visibility: a sticker is seen in the chats it was made or sent in, and everywhere once
-- made public (`!public`, by its maker or a bot owner).
ALTER TABLE stickers ADD COLUMN public INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1));
CREATE INDEX stickers_public ON stickers (sha256) WHERE public = 1;
-- Rankings and picks read these columns of every visible sticker: from this covering
-- index, never from the rows, whose WebP bytes come first and span overflow pages.
CREATE INDEX stickers_ranking ON stickers (sha256, created_at, times_sent);
-- The 64-bit perceptual hash (16 hex digits; dHash, see the sticker engine's fingerprint) and its four 16-bit bands: two
-- hashes within 3 bits agree on at least one band (pigeonhole), so a near-duplicate
-- lookup reads four small index ranges instead of every sticker. NULL for stickers
-- catalogued before this migration.
ALTER TABLE stickers ADD COLUMN phash TEXT CHECK (phash IS NULL OR length(phash) = 16);
ALTER TABLE stickers ADD COLUMN band0 INTEGER;
ALTER TABLE stickers ADD COLUMN band1 INTEGER;
ALTER TABLE stickers ADD COLUMN band2 INTEGER;
ALTER TABLE stickers ADD COLUMN band3 INTEGER;
CREATE INDEX stickers_by_band0 ON stickers (band0) WHERE band0 IS NOT NULL;
CREATE INDEX stickers_by_band1 ON stickers (band1) WHERE band1 IS NOT NULL;
CREATE INDEX stickers_by_band2 ON stickers (band2) WHERE band2 IS NOT NULL;
CREATE INDEX stickers_by_band3 ON stickers (band3) WHERE band3 IS NOT NULL;

-- Bytes of a near duplicate that was linked to an existing sticker instead of stored.
CREATE TABLE sticker_aliases (
  sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
  canonical TEXT NOT NULL REFERENCES stickers (sha256) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- The chats a sticker was made or sent in (its visibility without `public`).
CREATE TABLE sticker_chats (
  sha256 TEXT NOT NULL REFERENCES stickers (sha256) ON DELETE CASCADE,
  chat TEXT NOT NULL,
  PRIMARY KEY (chat, sha256)
) STRICT, WITHOUT ROWID;

-- Tags: emojis (one per row) and lower-case words.
CREATE TABLE sticker_tags (
  sha256 TEXT NOT NULL REFERENCES stickers (sha256) ON DELETE CASCADE,
  tag TEXT NOT NULL CHECK (length(tag) BETWEEN 1 AND 32),
  PRIMARY KEY (tag, sha256)
) STRICT; -- with a rowid: tags list in the order they were given
CREATE INDEX sticker_tags_by_sticker ON sticker_tags (sha256);

-- Reactions to stickers the bot sent: one per person and message (WhatsApp keeps one).
CREATE TABLE sticker_reactions (
  session_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  sender TEXT NOT NULL,
  sha256 TEXT NOT NULL REFERENCES stickers (sha256) ON DELETE CASCADE,
  emoji TEXT NOT NULL CHECK (length(emoji) > 0),
  reacted_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, message_id, sender)
) STRICT, WITHOUT ROWID;
CREATE INDEX sticker_reactions_by_sticker ON sticker_reactions (sha256, reacted_at);
CREATE INDEX sticker_reactions_by_time ON sticker_reactions (reacted_at);

-- Sticker packs (`!pack new|add|show`), per chat; stickers in the order they were added.
CREATE TABLE packs (
  id INTEGER PRIMARY KEY,
  chat TEXT NOT NULL,
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  name_key TEXT NOT NULL,
  owner TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (chat, name_key)
) STRICT;
CREATE TABLE pack_stickers (
  pack_id INTEGER NOT NULL REFERENCES packs (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  sha256 TEXT NOT NULL REFERENCES stickers (sha256) ON DELETE CASCADE,
  PRIMARY KEY (pack_id, sha256),
  UNIQUE (pack_id, position)
) STRICT;

-- `!top week` counts a sticker's sends since a time.
CREATE INDEX sent_stickers_by_sticker ON sent_stickers (sha256, sent_at);
