/**
 * `@stickerbot/runtime`: the process plumbing the daemon and the worker share, so that
 * the two cannot drift apart. The worker imports nothing of the daemon (DESIGN §2); both
 * import this. See README.md for why it is a package of its own and not part of protocol.
 */
export { DEFAULT_BACKOFF, createBackoff, type Backoff, type BackoffOptions } from './backoff.js';
export { ConfigError } from './config-error.js';
export { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, ensurePrivateDataDir, restrictToOwner } from './private-data-dir.js';
export { routeConsoleToLogger, safeConsoleArgument, safeConsoleText } from './route-console.js';
export { LOG_LEVELS, REDACTED_PATHS, createLogger, type LogLevel, type Logger, type LoggerOptions } from './logger.js';
export { MAX_VALUE_CHARS, formatLogRecord, type LogFormatOptions } from './log-format.js';
export { loadMigrations, migrate, openDatabase, type Migration, type OpenDatabaseOptions, type SqliteDatabase, type SynchronousLevel } from './sqlite.js';
