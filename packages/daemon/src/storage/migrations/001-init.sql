-- 001: every table of the daemon's storage (one file: <dataDir>/daemon.sqlite).
-- Applied in one transaction by db.ts; PRAGMA user_version records it.

-- The event journal. AUTOINCREMENT (not a plain rowid) so that a seq is never reused,
-- even after every row was pruned and the daemon restarted: sqlite_sequence keeps the
-- highest seq ever handed out.
CREATE TABLE journal (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT    NOT NULL,
  ts         INTEGER NOT NULL,
  type       TEXT    NOT NULL,
  -- WhatsApp id of a message:received event (findRawMessage); NULL for other events.
  message_id TEXT,
  -- The BotEvent as JSON.
  event      TEXT    NOT NULL,
  -- The raw Baileys WAMessage, BufferJSON-serialised; NULL when there is none.
  raw        TEXT
);
CREATE INDEX journal_message ON journal (session_id, message_id) WHERE message_id IS NOT NULL;

-- Consumer groups and their acknowledged positions (seq of the last acknowledged entry).
CREATE TABLE journal_groups (
  name       TEXT    PRIMARY KEY,
  position   INTEGER NOT NULL DEFAULT 0 CHECK (position >= 0),
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- The registry of sessions (restarted with the daemon).
CREATE TABLE sessions (
  id         TEXT    PRIMARY KEY,
  status     TEXT    NOT NULL CHECK (status IN ('STOPPED', 'CONNECTING', 'QR_REQUIRED', 'CONNECTED', 'RECONNECTING', 'LOGGED_OUT', 'ERROR')),
  autostart  INTEGER NOT NULL DEFAULT 1 CHECK (autostart IN (0, 1)),
  account    TEXT,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Baileys creds, one row per session (BufferJSON).
CREATE TABLE auth_creds (
  session_id TEXT    PRIMARY KEY,
  creds      TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Baileys Signal keys, one row per (session, type, id) (BufferJSON).
CREATE TABLE auth_keys (
  session_id TEXT NOT NULL,
  type       TEXT NOT NULL,
  id         TEXT NOT NULL,
  value      TEXT NOT NULL,
  PRIMARY KEY (session_id, type, id)
) WITHOUT ROWID;

-- Idempotency log: the recorded result of every command id.
CREATE TABLE command_log (
  id         TEXT    PRIMARY KEY,
  op         TEXT    NOT NULL,
  session_id TEXT,
  -- Result<unknown> as BufferJSON (a media:download result holds bytes).
  result     TEXT    NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX command_log_created ON command_log (created_at);

-- The persistent outbound queue. The rowid breaks ties between equal enqueued_at.
CREATE TABLE outbox (
  command_id  TEXT    NOT NULL UNIQUE,
  session_id  TEXT    NOT NULL,
  chat        TEXT    NOT NULL,
  -- Validated message:send arguments as BufferJSON (media bytes kept as bytes).
  args        TEXT    NOT NULL,
  enqueued_at INTEGER NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0)
);
CREATE INDEX outbox_session ON outbox (session_id, enqueued_at);
