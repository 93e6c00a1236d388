-- 006: auth_keys as a rowid table with a unique index, instead of WITHOUT ROWID.
-- Baileys rewrites a contact's Signal session (about 2 KB of JSON) on every message it
-- decrypts. In a WITHOUT ROWID table the row lives in an index B-tree, whose pages keep
-- only a small part of a row locally: every update rewrote a leaf page and an overflow
-- page. In a rowid table the value is updated in place in one table page, and the
-- unique index, which holds only the key, is not touched by an update.
CREATE TABLE auth_keys_v2 (
  session_id TEXT NOT NULL,
  type       TEXT NOT NULL,
  id         TEXT NOT NULL,
  value      TEXT NOT NULL
);
INSERT INTO auth_keys_v2 (session_id, type, id, value) SELECT session_id, type, id, value FROM auth_keys;
DROP TABLE auth_keys;
ALTER TABLE auth_keys_v2 RENAME TO auth_keys;
CREATE UNIQUE INDEX auth_keys_key ON auth_keys (session_id, type, id);
