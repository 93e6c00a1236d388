import type { Account, SessionStatus, WireError } from '@stickerbot/protocol';
import type { SqliteDatabase } from './sqlite-database.js';
import type { SessionStore, StoredSession } from './stores.js';

interface SessionRow {
  id: string;
  status: SessionStatus;
  autostart: 0 | 1;
  account: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

function fromRow(row: SessionRow): StoredSession {
  const session: StoredSession = {
    id: row.id,
    status: row.status,
    autostart: row.autostart === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.account !== null) session.account = JSON.parse(row.account) as Account;
  if (row.last_error !== null) session.lastError = JSON.parse(row.last_error) as WireError;
  return session;
}

/**
 * The registry of sessions in the daemon's SQLite database (table `sessions`): which
 * sessions exist, their last state, whether they start on boot, the account they are
 * logged in as and their last error. A daemon restart reads it to restart every session
 * with `autostart`. The status is constrained to the protocol's states in the DDL.
 */
export function createSqliteSessionStore(db: SqliteDatabase): SessionStore {
  const selectAll = db.prepare<[], SessionRow>('SELECT * FROM sessions ORDER BY created_at, id');
  const selectOne = db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?');
  const upsert = db.prepare<[string, string, number, string | null, string | null, number, number]>(
    `INSERT INTO sessions (id, status, autostart, account, last_error, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET
       status = excluded.status, autostart = excluded.autostart, account = excluded.account,
       last_error = excluded.last_error, updated_at = excluded.updated_at`,
  );
  const remove = db.prepare<[string]>('DELETE FROM sessions WHERE id = ?');

  const save = db.transaction((session: Parameters<SessionStore['save']>[0]): StoredSession => {
    const now = session.updatedAt ?? Date.now();
    upsert.run(
      session.id,
      session.status,
      session.autostart ? 1 : 0,
      session.account === undefined ? null : JSON.stringify(session.account),
      session.lastError === undefined ? null : JSON.stringify(session.lastError),
      now,
      now,
    );
    const row = selectOne.get(session.id);
    if (row === undefined) throw new Error(`session ${session.id} vanished while being saved`);
    return fromRow(row);
  });

  return {
    list: () => selectAll.all().map(fromRow),
    get(id: string): StoredSession | undefined {
      const row = selectOne.get(id);
      return row === undefined ? undefined : fromRow(row);
    },
    save: (session) => save(session),
    remove(id: string): void {
      remove.run(id);
    },
  };
}
