-- Entries handled beyond the position. The position is the contiguous prefix of handled
-- entries; with chats handled side by side, later entries can finish while an earlier one
-- still runs. They are recorded here, in the same transaction as the handling's other
-- records, so a replay after a crash skips them; rows at or below the position are deleted
-- as it advances.
CREATE TABLE handled_entries (
  group_name TEXT NOT NULL,
  seq INTEGER NOT NULL CHECK (seq > 0),
  PRIMARY KEY (group_name, seq)
) STRICT, WITHOUT ROWID;
