-- 007: the journal's message-id lookup moves to memory (sqlite-journal.ts), read at open from
-- the journal's own message_id column. The table of migration 003 was keyed by (session,
-- message id), random keys: once it outgrew a batch of them each indexed message rewrote a
-- 1 KB leaf of its own, and the WAL checkpoint copied it again (issue #16, disk per message).
DROP TABLE journal_messages;
