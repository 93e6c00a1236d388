/**
 * The daemon's SQLite database, `<dataDir>/daemon.sqlite`: the journal, the session registry,
 * the auth state, the command log and the outbox in one file. Opening and migrating is the
 * runtime's (shared with the worker's database); the daemon brings its migrations.
 */
import { openDatabase as openSqlite, type OpenDatabaseOptions as SqliteOptions, type SqliteDatabase } from '@stickerbot/runtime';

export type { SqliteDatabase, SynchronousLevel } from '@stickerbot/runtime';

/** The daemon's numbered migrations, beside this module (copied to dist/ by the package build). */
export const DAEMON_MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

/**
 * Page size of a new daemon database. Every inbound message is its own commit (journaled
 * before its receipt leaves) touching a journal row of well under a kilobyte and a Signal
 * session of about two: WAL frames of 4 KB pages wrote several times the data (issue #16,
 * `pnpm bench:disk`). A database created with SQLite's 4 KB pages keeps them.
 */
export const DAEMON_PAGE_SIZE = 1024;

/** Options of {@link openDatabase}: the runtime's, with the daemon's migrations by default. */
export interface OpenDatabaseOptions extends Omit<SqliteOptions, 'migrationsDir'> {
  /** Another migrations folder (tests of a schema upgrade). Default {@link DAEMON_MIGRATIONS_DIR}. */
  migrationsDir?: URL | string;
}

/**
 * Opens (creating it if needed) and migrates the daemon's database at `file`: WAL, mode
 * 0600, the chosen `synchronous` level (see `SynchronousLevel`), every migration of
 * {@link DAEMON_MIGRATIONS_DIR} applied.
 */
export function openDatabase(file: string, options: OpenDatabaseOptions = {}): SqliteDatabase {
  return openSqlite(file, { pageSize: DAEMON_PAGE_SIZE, ...options, migrationsDir: options.migrationsDir ?? DAEMON_MIGRATIONS_DIR });
}
