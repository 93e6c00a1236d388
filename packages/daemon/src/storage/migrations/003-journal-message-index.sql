-- 003: the message-id index of the journal moves out of the journal's own transaction.
-- The partial index journal_message was one more B-tree page written to the WAL with every
-- append (measured with `pnpm bench:bridge`: about a third of an append). Appends now write
-- only their journal row; journal_messages maps (session, message id) to seq and is filled
-- in batches shortly after (sqlite-journal.ts), for the rows that hold a raw WAMessage
-- (the only ones a lookup can return). Such rows after the highest indexed seq
-- are the ones not indexed yet: the journal reads them back at open (its message_id column
-- stays for that), so a crash between an append and its indexing loses no lookup.
CREATE TABLE journal_messages (
  seq        INTEGER PRIMARY KEY,
  session_id TEXT    NOT NULL,
  message_id TEXT    NOT NULL
);
CREATE INDEX journal_messages_id ON journal_messages (session_id, message_id);
INSERT INTO journal_messages (seq, session_id, message_id)
  SELECT seq, session_id, message_id FROM journal WHERE message_id IS NOT NULL AND raw IS NOT NULL;
DROP INDEX journal_message;
