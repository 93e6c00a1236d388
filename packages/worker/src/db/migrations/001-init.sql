-- The worker's own database (never the daemon's file).

-- The last journal position this worker handled, per consumer group.
CREATE TABLE position (
  group_name TEXT PRIMARY KEY,
  seq INTEGER NOT NULL CHECK (seq >= 0),
  updated_at INTEGER NOT NULL
) STRICT;

-- Messages already handled (dedupe of replays), with what the bot knows about their
-- media so that a later reply to them can be refused before download. Pruned by age.
CREATE TABLE processed_messages (
  session_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  chat TEXT NOT NULL,
  kind TEXT NOT NULL,
  mimetype TEXT,
  size INTEGER CHECK (size IS NULL OR size >= 0),
  animated INTEGER CHECK (animated IS NULL OR animated IN (0, 1)),
  seq INTEGER NOT NULL,
  processed_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, message_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX processed_messages_by_time ON processed_messages (processed_at);

-- Per-chat settings; NULL means "the default for this kind of chat".
CREATE TABLE chat_settings (
  session_id TEXT NOT NULL,
  chat TEXT NOT NULL,
  autosticker INTEGER CHECK (autosticker IS NULL OR autosticker IN (0, 1)),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, chat)
) STRICT;

-- A user's default sticker pack metadata (`!pack`).
CREATE TABLE user_packs (
  user_jid TEXT PRIMARY KEY,
  pack TEXT NOT NULL CHECK (length(pack) BETWEEN 1 AND 128),
  author TEXT NOT NULL CHECK (length(author) <= 128),
  updated_at INTEGER NOT NULL
) STRICT;

-- Every sticker the bot made, content-addressed by the sha256 of its WebP bytes.
CREATE TABLE stickers (
  sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
  data BLOB NOT NULL,
  animated INTEGER NOT NULL CHECK (animated IN (0, 1)),
  bytes INTEGER NOT NULL CHECK (bytes > 0),
  creator TEXT NOT NULL,
  chat TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  times_made INTEGER NOT NULL DEFAULT 1 CHECK (times_made >= 1),
  times_sent INTEGER NOT NULL DEFAULT 0 CHECK (times_sent >= 0),
  last_sent_at INTEGER
) STRICT;
CREATE INDEX stickers_by_sent ON stickers (times_sent DESC, created_at DESC);

-- Stickers the bot sent, by the WhatsApp id of the sent message, so that `toimg` and
-- `take` answering one of the bot's own stickers need no download.
CREATE TABLE sent_stickers (
  session_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  sha256 TEXT NOT NULL REFERENCES stickers (sha256) ON DELETE CASCADE,
  sent_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, message_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX sent_stickers_by_time ON sent_stickers (sent_at);

-- Usage statistics per command, user and chat.
CREATE TABLE usage_stats (
  command TEXT NOT NULL,
  user_jid TEXT NOT NULL,
  chat TEXT NOT NULL,
  uses INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
  failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
  last_used_at INTEGER NOT NULL,
  PRIMARY KEY (command, user_jid, chat)
) STRICT;
