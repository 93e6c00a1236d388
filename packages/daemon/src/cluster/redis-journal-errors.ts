/** The typed error of the Redis journal and its consumers. */

/** Codes of {@link RedisJournalError}. */
export type RedisJournalErrorCode =
  /** A stream entry the journal cannot read: missing fields, an id that is not `<seq>-0`, bad JSON, an unknown event type. */
  | 'JOURNAL_ENTRY_MALFORMED'
  /** Redis disagrees with this daemon's settings (another partition count) or an option is invalid. */
  | 'JOURNAL_CONFIG'
  /** Redis holds a journal that contradicts itself (a stream entry beyond the `seq` counter). */
  | 'JOURNAL_INCONSISTENT'
  /** The consumer is closed, or does not hold the partition it was asked about. */
  | 'CONSUMER_CLOSED'
  /** Redis did not answer or refused a command. */
  | 'REDIS_UNAVAILABLE';

/** The typed error of the journal on Redis Streams: a stable `code`, the cause kept for the logs. */
export class RedisJournalError extends Error {
  override readonly name = 'RedisJournalError';
  readonly code: RedisJournalErrorCode;

  constructor(code: RedisJournalErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** Turns what ioredis threw into a {@link RedisJournalError} (one passes through). */
export function toJournalError(error: unknown, what: string): RedisJournalError {
  if (error instanceof RedisJournalError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (message.includes('JOURNAL_INCONSISTENT')) return new RedisJournalError('JOURNAL_INCONSISTENT', `${what}: ${message}`, { cause: error });
  return new RedisJournalError('REDIS_UNAVAILABLE', `${what}: ${message}`, { cause: error });
}
