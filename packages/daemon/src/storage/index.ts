import { join } from 'node:path';
import type { Logger } from 'pino';
import { openDatabase, type OpenDatabaseOptions, type SqliteDatabase } from './sqlite-database.js';
import { createSqliteAuthStore, type SqliteAuthStore } from './sqlite-auth-store.js';
import { createSqliteCommandLog } from './sqlite-command-log.js';
import { createSqliteJournal, type SqliteJournal } from './sqlite-journal.js';
import { createSqliteOutbox, type SqliteOutbox } from './sqlite-outbox.js';
import { createSqliteSessionStore } from './sqlite-session-store.js';
import type { CommandLog, SessionStore } from './stores.js';
import { startWalCheckpointer } from './wal-checkpointer.js';

// The storage wing's one entry point (README, Layout): the rest of the daemon reaches the
// store contracts and the journal retention through this module.
export type {
  AuthStore,
  CommandLog,
  CommandRecord,
  CommandClaim,
  CommandRecordInput,
  GroupPosition,
  Journal,
  JournalAppend,
  OutboxItem,
  OutboxStore,
  PruneOutcome,
  RetentionPolicy,
  SessionStore,
  SharedCommandLog,
  StoredSession,
} from './stores.js';
export { createJournalRetention, type JournalRetention, type JournalRetentionOptions, type RetentionStatus } from './journal-retention.js';
export type { SynchronousLevel } from './sqlite-database.js';
export { DEFAULT_CHECKPOINT_IDLE_MS } from './wal-checkpointer.js';
export { DEFAULT_POSITION_DELAY_MS } from './sqlite-journal.js';
export { credsLoggedIn, decodeAuthValue, decodeSignalKey, encodeAuthValue, lidReverseKeyId, phoneJidOfMapping } from './auth-codec.js';
// The raw-message encoding is shared with the cluster's Redis journal (one format for both journals).
export { decodeRawMessage, encodeRawMessage } from './raw-message-codec.js';
export { parseWithBuffers, stringifyWithBuffers } from './buffer-json.js';
// Readers of the database file outside the stores (tests, benchmarks) unpack its JSON columns.
export { unpackText, type StoredText } from './packed-text.js';
export { baileys, loadBaileys } from './baileys-lib.js';

/** Name of the daemon's database file inside the data folder. */
export const DATABASE_FILE = 'daemon.sqlite';

/** Options of {@link openStorage}. */
export interface OpenStorageOptions extends OpenDatabaseOptions {
  /**
   * Who checkpoints the WAL: `background` (default) a worker thread every 30 s, off the
   * event loop (see wal-checkpointer.ts); `commit` SQLite itself inside the committing append.
   */
  checkpoint?: 'background' | 'commit';
  /** Reports a failed background checkpointer. */
  logger?: Logger;
}

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
 * it. Layout of the file (migrations/): `journal`, `journal_groups` and `journal_high_water`
 * (event journal, consumer positions, the highest seq handed out), `sessions` (registry),
 * `auth_creds` and `auth_keys` (Baileys auth state), `command_log` (idempotency), `outbox`
 * (queued sends). WAL checkpoints run in a background worker thread unless
 * `checkpoint: 'commit'`.
 */
export function openStorage(dataDir: string, options: OpenStorageOptions = {}): Storage {
  const file = join(dataDir, DATABASE_FILE);
  const db = openDatabase(file, options);
  const checkpointer =
    (options.checkpoint ?? 'background') === 'background'
      ? startWalCheckpointer(db, options.logger ? { logger: options.logger.child({ module: 'wal-checkpointer' }) } : {})
      : undefined;
  const commands = createSqliteCommandLog(db);
  const journal = createSqliteJournal(db, {
    onPositionError: (err) => options.logger?.error({ err }, 'could not write acknowledged positions; retrying with the next acknowledgement'),
  });
  return {
    db,
    file,
    journal,
    auth: createSqliteAuthStore(db),
    sessions: createSqliteSessionStore(db),
    commands,
    outbox: createSqliteOutbox(db, commands),
    isOpen: () => db.open,
    close(): void {
      // The worker closes its own connection; whichever connection closes last folds the
      // WAL back into the database file.
      void checkpointer?.stop();
      if (!db.open) return;
      try {
        journal.close();
      } finally {
        db.close();
      }
    },
  };
}
