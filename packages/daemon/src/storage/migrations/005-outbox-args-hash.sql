-- 005: a queued send keeps the hash of its validated arguments (computed once, by the
-- command executor, when the send entered the bridge), so that a repeat of its command id
-- with other arguments is refused while it is queued, also after a restart, and its
-- outcome is recorded with the hash when it completes. Sends queued before this migration
-- have no hash (NULL) and match any arguments, as records before migration 004 do.
ALTER TABLE outbox ADD COLUMN args_hash TEXT;
