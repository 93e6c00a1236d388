-- 002: the journal's seq without AUTOINCREMENT. AUTOINCREMENT updates sqlite_sequence on
-- every insert: one more page written to the WAL per event (measured with
-- `pnpm bench:bridge`). The journal now hands out seqs itself (highest seq + 1) and keeps
-- "never reuse a seq" with a high-water mark that only pruning writes: after a prune the
-- highest seq ever handed out is max(max(seq) held, high_water).
CREATE TABLE journal_high_water (
  id  INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL CHECK (seq >= 0)
);
INSERT INTO journal_high_water (id, seq)
  SELECT 1, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'journal'), 0);

CREATE TABLE journal_v2 (
  seq        INTEGER PRIMARY KEY,
  session_id TEXT    NOT NULL,
  ts         INTEGER NOT NULL,
  type       TEXT    NOT NULL,
  message_id TEXT,
  event      TEXT    NOT NULL,
  raw        TEXT
);
INSERT INTO journal_v2 (seq, session_id, ts, type, message_id, event, raw)
  SELECT seq, session_id, ts, type, message_id, event, raw FROM journal;
DROP TABLE journal;
ALTER TABLE journal_v2 RENAME TO journal;
CREATE INDEX journal_message ON journal (session_id, message_id) WHERE message_id IS NOT NULL;
