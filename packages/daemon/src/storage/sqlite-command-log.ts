import type { Result } from '@stickerbot/protocol';
import { parseWithBuffers, stringifyWithBuffers } from './buffer-json.js';
import type { SqliteDatabase } from './sqlite-database.js';
import type { CommandLog, CommandRecord } from './stores.js';

interface CommandRow {
  id: string;
  op: string;
  session_id: string | null;
  args_hash: string | null;
  result: string;
  created_at: number;
}

/**
 * The idempotency log in the daemon's SQLite database (table `command_log`): the recorded
 * result of every command id, so a repeated id (a worker that restarted mid-send) gets
 * the same answer instead of a second action, also across a daemon restart; each record
 * keeps the hash of its arguments, so a repeat asking for something else is told apart
 * (`IDEMPOTENCY_CONFLICT`, decided by the caller). Results are
 * stored with `BufferJSON`, so a recorded `media:download` result keeps its bytes as a
 * Buffer. Recording an id again replaces its record (the executor records once it acted);
 * `prune` drops records older than the idempotency window.
 */
export function createSqliteCommandLog(db: SqliteDatabase): CommandLog {
  const selectOne = db.prepare<[string], CommandRow>('SELECT * FROM command_log WHERE id = ?');
  const selectHas = db.prepare<[string], number>('SELECT 1 FROM command_log WHERE id = ?').pluck();
  const upsert = db.prepare<[string, string, string | null, string | null, string, number]>(
    `INSERT INTO command_log (id, op, session_id, args_hash, result, created_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET op = excluded.op, session_id = excluded.session_id,
       args_hash = excluded.args_hash, result = excluded.result, created_at = excluded.created_at`,
  );
  const deleteOlder = db.prepare<[number]>('DELETE FROM command_log WHERE created_at < ?');

  return {
    get(id: string): CommandRecord | undefined {
      const row = selectOne.get(id);
      if (row === undefined) return undefined;
      const record: CommandRecord = {
        id: row.id,
        op: row.op,
        result: parseWithBuffers(row.result) as Result<unknown>,
        createdAt: row.created_at,
      };
      if (row.session_id !== null) record.sessionId = row.session_id;
      if (row.args_hash !== null) record.argsHash = row.args_hash;
      return record;
    },

    has: (id: string) => selectHas.get(id) !== undefined,

    record({ id, op, sessionId, argsHash, result, createdAt }): void {
      upsert.run(id, op, sessionId ?? null, argsHash ?? null, stringifyWithBuffers(result), createdAt ?? Date.now());
    },

    prune(olderThanMs: number, now: number = Date.now()): number {
      return deleteOlder.run(now - olderThanMs).changes;
    },
  };
}
