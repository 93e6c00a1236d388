import { join } from 'node:path';
import { openDatabase, type OpenDatabaseOptions, type SqliteDatabase } from './db.js';
import { createSqliteAuthStore, type SqliteAuthStore } from './sqlite-auth-store.js';
import { createSqliteCommandLog } from './sqlite-command-log.js';
import { createSqliteJournal, type SqliteJournal } from './sqlite-journal.js';
import { createSqliteOutbox, type SqliteOutbox } from './sqlite-outbox.js';
import { createSqliteSessionStore } from './sqlite-session-store.js';
import type { CommandLog, SessionStore } from './stores.js';

/** Name of the daemon's database file inside the data folder. */
export const DATABASE_FILE = 'daemon.sqlite';

/** Every store of the daemon, over one SQLite database. */
export interface Storage {
  /** The open database (for health checks; the stores own its tables). */
  db: SqliteDatabase;
  /** Where the database lives. */
  file: string;
  journal: SqliteJournal;
  auth: SqliteAuthStore;
  sessions: SessionStore;
  commands: CommandLog;
  outbox: SqliteOutbox;
  /** Whether the database is still open (`/readyz`). */
  isOpen(): boolean;
  /** Closes the database (idempotent). Call it last, after every session stopped. */
  close(): void;
}

/**
 * Opens the daemon's storage in one call for the composition root: the database file
 * `<dataDir>/daemon.sqlite` (created with its folder, migrated, WAL) and every store over
 * it. Layout of the file (migrations/001-init.sql): `journal` and `journal_groups` (event
 * journal and consumer positions), `sessions` (registry), `auth_creds` and `auth_keys`
 * (Baileys auth state), `command_log` (idempotency), `outbox` (queued sends).
 */
export function openStorage(dataDir: string, options: OpenDatabaseOptions = {}): Storage {
  const file = join(dataDir, DATABASE_FILE);
  const db = openDatabase(file, options);
  const commands = createSqliteCommandLog(db);
  return {
    db,
    file,
    journal: createSqliteJournal(db),
    auth: createSqliteAuthStore(db),
    sessions: createSqliteSessionStore(db),
    commands,
    outbox: createSqliteOutbox(db, commands),
    isOpen: () => db.open,
    close(): void {
      if (db.open) db.close();
    },
  };
}
