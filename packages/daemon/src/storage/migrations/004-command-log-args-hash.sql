-- 004: the command log keeps a hash of each command's validated arguments (stable JSON,
-- binary hashed by content: src/command-args-hash.ts), so that a repeated command id with
-- other arguments is refused (IDEMPOTENCY_CONFLICT) instead of answered with the result
-- of the command first sent under it. Records written before this migration have no hash
-- (NULL) and match any arguments, as every repeat did before; they leave the log with the
-- idempotency window (STICKERBOT_COMMAND_LOG_MAX_AGE_H).
ALTER TABLE command_log ADD COLUMN args_hash TEXT;
