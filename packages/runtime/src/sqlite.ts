/**
 * SQLite for the daemon (`daemon.sqlite`) and the worker (`worker.sqlite`): one way to open a
 * database file and bring its schema up to date. Each caller owns its folder of numbered
 * migrations (`001-init.sql`, …; CONVENTIONS §11), tracked with `PRAGMA user_version`.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StickerbotError } from '@stickerbot/protocol';
import Database from 'better-sqlite3';
import { PRIVATE_DIR_MODE, restrictToOwner } from './private-data-dir.js';

/** An open better-sqlite3 database. */
export type SqliteDatabase = Database.Database;

/**
 * SQLite `synchronous` levels supported (with `journal_mode = WAL`):
 * - `NORMAL` (default): a commit is in the WAL file (the OS page cache) when it returns, so
 *   a process crash, even SIGKILL, loses nothing; a power loss or kernel panic may roll back
 *   the last transactions since the WAL was last synced (the database stays consistent).
 *   Measured with the daemon's journal: ~10,000 appends/s (~0.1 ms each).
 * - `FULL`: every commit also waits for an fsync of the WAL, so it survives power loss, at
 *   one fsync per commit: ~500 journal appends/s (~2 ms each) on the same disk.
 *
 * Why NORMAL is the default: the failure to survive is a crashed or killed process (pm2
 * restarts, OOM kills, SIGKILL), and in the daemon Baileys has already acked the message to
 * WhatsApp before the handler runs, so the journal write must be as short as possible. An
 * operator on hardware that loses power without a battery can choose `FULL`.
 */
export type SynchronousLevel = 'NORMAL' | 'FULL';

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** Folder of the numbered `NNN-name.sql` migrations (the caller's, shipped beside its code). */
  migrationsDir: URL | string;
  /** Durability of a commit; see {@link SynchronousLevel}. Default `NORMAL`. */
  synchronous?: SynchronousLevel;
  /** How long a write waits for another connection's lock before failing (ms). Default 5000. */
  busyTimeoutMs?: number;
  /**
   * Page size of a database this call creates (bytes, a power of two from 512 to 65536;
   * SQLite's default 4096). A WAL commit writes every page it changed whole, so small rows
   * committed one at a time cost a page each. An existing database keeps its own.
   */
  pageSize?: number;
}

/** One numbered migration file. */
export interface Migration {
  version: number;
  /** The file name, `NNN-name.sql`. */
  name: string;
  sql: string;
}

const MIGRATION_FILE = /^(\d{3,})-[a-z0-9-]+\.sql$/;

/**
 * Reads the numbered migrations of a folder, in order. The numbers must run 1, 2, 3, …
 * without gaps or duplicates, so a missing file is an error rather than a skipped schema.
 */
export function loadMigrations(dir: URL | string): Migration[] {
  const path = typeof dir === 'string' ? dir : fileURLToPath(dir);
  let files: string[];
  try {
    files = readdirSync(path);
  } catch (cause) {
    throw new StickerbotError('INTERNAL', `cannot read the migrations folder ${path}`, { cause });
  }
  const migrations = files
    .map((name) => ({ name, match: MIGRATION_FILE.exec(name) }))
    .filter((f): f is { name: string; match: RegExpExecArray } => f.match !== null)
    .map(({ name, match }) => ({ version: Number(match[1]), name, sql: readFileSync(`${path}/${name}`, 'utf8') }))
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, index) => {
    if (m.version !== index + 1) {
      throw new StickerbotError('INTERNAL', `migration ${m.name} should be number ${index + 1}: numbers must run 1, 2, 3, … without gaps or duplicates`);
    }
  });
  return migrations;
}

/**
 * Applies every migration newer than the database's `PRAGMA user_version`, each in its own
 * transaction together with the version bump, so a failed migration leaves the previous
 * schema intact. Refuses a database written by a newer version. Returns the new version.
 */
export function migrate(db: SqliteDatabase, migrations: readonly Migration[]): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.length;
  if (current > latest) {
    throw new StickerbotError(
      'INTERNAL',
      `database ${db.name} has schema version ${current} but this stickerbot knows only ${latest}: it was written by a newer version; update`,
    );
  }
  for (const migration of migrations.slice(current)) {
    const apply = db.transaction(() => {
      db.exec(migration.sql);
      // user_version takes no bound parameter; the version is a number we computed.
      db.pragma(`user_version = ${migration.version}`);
    });
    try {
      apply();
    } catch (cause) {
      throw new StickerbotError('INTERNAL', `migration ${migration.name} failed on ${db.name}: ${String(cause)}`, { cause });
    }
  }
  return latest;
}

/**
 * Opens (creating it and its folder if needed) an SQLite database, mode 0600 with its
 * `-wal` and `-shm` (folder 0700 when created here: the data folder holds WhatsApp
 * credentials): WAL journal, the chosen `synchronous` level, a busy timeout, foreign keys
 * on, and every numbered migration of `migrationsDir` applied. Errors are typed
 * (`StickerbotError`, code `INTERNAL`), the database closed again.
 */
export function openDatabase(file: string, options: OpenDatabaseOptions): SqliteDatabase {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: PRIVATE_DIR_MODE });
  let db: SqliteDatabase;
  try {
    db = new Database(file);
  } catch (cause) {
    throw new StickerbotError('INTERNAL', `cannot open the database ${file}: ${String(cause)}`, { cause });
  }
  try {
    // Before anything is written: once the file has its first page, the pragma does nothing.
    if (options.pageSize !== undefined) db.pragma(`page_size = ${Math.trunc(options.pageSize)}`);
    db.pragma('journal_mode = WAL');
    // 0600, as are the -wal and -shm the pragma just created (SQLite gives the ones it
    // creates later the database file's mode).
    if (file !== ':memory:') restrictToOwner([file, `${file}-wal`, `${file}-shm`]);
    db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    // After a burst the WAL file is truncated back to this size once it is reset.
    db.pragma('journal_size_limit = 67108864');
    db.pragma('foreign_keys = ON');
    migrate(db, loadMigrations(options.migrationsDir));
    return db;
  } catch (error) {
    db.close();
    if (error instanceof StickerbotError) throw error;
    throw new StickerbotError('INTERNAL', `cannot prepare the database ${file}: ${String(error)}`, { cause: error });
  }
}
