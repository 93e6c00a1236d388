/**
 * `@stickerbot/runtime`: the process plumbing the daemon and the worker share, so that
 * the two cannot drift apart. The worker imports nothing of the daemon (DESIGN §2); both
 * import this. See README.md for why it is a package of its own and not part of protocol.
 */
export { createBackoff, type Backoff, type BackoffOptions } from './backoff.js';
export { ConfigError } from './config-error.js';
export { LOG_LEVELS, REDACTED_PATHS, createLogger, stdioLogDestination, type LogLevel, type Logger, type LoggerOptions } from './logger.js';
export { formatLogRecord, type LogFormatOptions } from './log-format.js';
export { ensurePrivateDataDir } from './private-data-dir.js';
export { routeConsoleToLogger } from './route-console.js';
export { createTokenBuckets, type TokenBucketOptions, type TokenBuckets } from './token-buckets.js';
export { loadMigrations, openDatabase, type OpenDatabaseOptions, type SqliteDatabase, type SynchronousLevel } from './sqlite.js';
