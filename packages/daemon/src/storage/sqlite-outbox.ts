import type { WorkerCommandArgs } from '@stickerbot/protocol';
import { parseWithBuffers, stringifyWithBuffers } from './buffer-json.js';
import type { SqliteDatabase } from './sqlite-database.js';
import type { CommandLog, CommandRecordInput, OutboxItem, OutboxStore, QueuedCommand } from './stores.js';

/** The SQLite outbox: {@link OutboxStore} plus removal of a session's items. */
export interface SqliteOutbox extends OutboxStore {
  /** Queues an item; returns false (and changes nothing) when its command id is already queued. */
  enqueue(item: Parameters<OutboxStore['enqueue']>[0]): boolean;
  /** Removes every queued item of a session (for example after a logout). Returns how many. */
  drop(sessionId: string): number;
}

interface OutboxRow {
  command_id: string;
  session_id: string;
  chat: string;
  args: string;
  args_hash: string | null;
  enqueued_at: number;
  attempts: number;
}

function fromRow(row: OutboxRow): OutboxItem {
  return {
    commandId: row.command_id,
    sessionId: row.session_id,
    chat: row.chat,
    // Written by `enqueue` from arguments the bridge validated: the store gives back what it was given.
    args: parseWithBuffers(row.args) as WorkerCommandArgs<'message:send'>,
    argsHash: row.args_hash ?? undefined,
    enqueuedAt: row.enqueued_at,
    attempts: row.attempts,
  };
}

/**
 * The persistent outbound queue in the daemon's SQLite database (table `outbox`), so a
 * daemon restart resumes unsent messages. Arguments are stored with `BufferJSON`: media
 * bytes come back as Buffers, byte for byte. Items of a session come out oldest first
 * (ties in `enqueuedAt` broken by insertion order). `enqueue` of a command id already
 * queued is ignored (returns false): the same id is the same command. `complete` removes
 * the item and records the command's outcome in the command log in ONE transaction, so a
 * crash can never leave a sent message both queued (sent again) and unrecorded.
 */
export function createSqliteOutbox(db: SqliteDatabase, commands: CommandLog): SqliteOutbox {
  const insert = db.prepare<[string, string, string, string, string, number]>(
    `INSERT INTO outbox (command_id, session_id, chat, args, args_hash, enqueued_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (command_id) DO NOTHING`,
  );
  const selectPending = db.prepare<[string], OutboxRow>(
    'SELECT command_id, session_id, chat, args, args_hash, enqueued_at, attempts FROM outbox WHERE session_id = ? ORDER BY enqueued_at, rowid',
  );
  const selectQueued = db.prepare<[string], { args_hash: string | null }>('SELECT args_hash FROM outbox WHERE command_id = ?');
  const incrementAttempts = db.prepare<[string]>('UPDATE outbox SET attempts = attempts + 1 WHERE command_id = ?');
  const deleteOne = db.prepare<[string]>('DELETE FROM outbox WHERE command_id = ?');
  const deleteSession = db.prepare<[string]>('DELETE FROM outbox WHERE session_id = ?');
  const selectSize = db.prepare<[], number>('SELECT count(*) FROM outbox').pluck();

  const complete = db.transaction((commandId: string, record: CommandRecordInput) => {
    deleteOne.run(commandId);
    commands.record(record);
  });

  return {
    enqueue({ commandId, sessionId, chat, args, argsHash, enqueuedAt }): boolean {
      const json = stringifyWithBuffers(args);
      return insert.run(commandId, sessionId, chat, json, argsHash, enqueuedAt ?? Date.now()).changes > 0;
    },
    pending: (sessionId: string) => selectPending.all(sessionId).map(fromRow),
    find(commandId: string): QueuedCommand | undefined {
      const row = selectQueued.get(commandId);
      return row === undefined ? undefined : { op: 'message:send', argsHash: row.args_hash ?? undefined };
    },
    markAttempt(commandId: string): void {
      incrementAttempts.run(commandId);
    },
    complete(commandId: string, record: CommandRecordInput): void {
      complete(commandId, record);
    },
    size: () => selectSize.get() ?? 0,
    remove: (commandId: string) => deleteOne.run(commandId).changes > 0,
    drop: (sessionId: string) => deleteSession.run(sessionId).changes,
  };
}
