import { StickerbotError, type BotEvent, type JournalEntry } from '@stickerbot/protocol';
import { BufferJSON } from '@whiskeysockets/baileys';
import type { SqliteDatabase } from './db.js';
import type { GroupPosition, Journal, JournalAppend, PruneOutcome, RetentionPolicy } from './stores.js';

/** The SQLite journal: {@link Journal} plus a few administrative extras. */
export interface SqliteJournal extends Journal {
  appendMany(inputs: readonly JournalAppend[]): JournalEntry[];
  /**
   * Forgets a consumer group (a retired worker group that would otherwise hold every
   * entry forever). Returns whether it existed.
   */
  removeGroup(group: string): boolean;
  /** How many held entries the slowest group has not acknowledged yet (all of them with no group). */
  unacknowledged(): number;
}

interface EntryRow {
  seq: number;
  session_id: string;
  ts: number;
  event: string;
}

interface GroupRow {
  name: string;
  position: number;
  updated_at: number;
}

function assertPosition(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new StickerbotError('INVALID_ARGS', `${what} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

function messageIdOf(event: BotEvent): string | null {
  return event.type === 'message:received' ? event.message.id : null;
}

/**
 * The durable event journal in the daemon's SQLite database (tables `journal` and
 * `journal_groups`, see migrations/001-init.sql).
 *
 * - `seq` is an AUTOINCREMENT key: strictly increasing, never reused, even after every
 *   entry was pruned and the daemon restarted (`lastSeq` reads `sqlite_sequence`).
 * - `append` is one prepared INSERT in autocommit mode: when it returns the entry is in
 *   the WAL, so a process crash (even SIGKILL) cannot lose it (see `SynchronousLevel` in
 *   db.ts for power loss). `appendMany` commits a batch (one `messages.upsert`) at once,
 *   all or nothing. Measured with `pnpm bench:bridge`.
 * - The raw Baileys `WAMessage` is stored with `BufferJSON.replacer` and returned by
 *   `findRawMessage` through `BufferJSON.reviver`, so media keys come back as Buffers.
 * - Positions are per consumer group and cumulative; `prune` deletes only entries every
 *   known group has acknowledged (none while no group is known) and reports the journal
 *   `full` when more than `maxUnacknowledged` entries wait: loud, never silent loss.
 */
export function createSqliteJournal(db: SqliteDatabase): SqliteJournal {
  const insert = db.prepare<[string, number, string, string | null, string, string | null]>(
    'INSERT INTO journal (session_id, ts, type, message_id, event, raw) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const selectAfter = db.prepare<[number, number], EntryRow>(
    'SELECT seq, session_id, ts, event FROM journal WHERE seq > ? ORDER BY seq LIMIT ?',
  );
  const selectRaw = db
    .prepare<[string, string], string | null>(
      'SELECT raw FROM journal WHERE session_id = ? AND message_id = ? AND raw IS NOT NULL ORDER BY seq DESC LIMIT 1',
    )
    .pluck();
  const selectLastSeq = db.prepare<[], number>("SELECT seq FROM sqlite_sequence WHERE name = 'journal'").pluck();
  const upsertGroup = db.prepare<[string, number, number]>(
    `INSERT INTO journal_groups (name, position, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET position = max(position, excluded.position), updated_at = excluded.updated_at`,
  );
  const selectPosition = db.prepare<[string], number>('SELECT position FROM journal_groups WHERE name = ?').pluck();
  const selectGroups = db.prepare<[], GroupRow>('SELECT name, position, updated_at FROM journal_groups ORDER BY name');
  const selectMinPosition = db.prepare<[], number | null>('SELECT min(position) FROM journal_groups').pluck();
  const deleteGroup = db.prepare<[string]>('DELETE FROM journal_groups WHERE name = ?');
  const selectCount = db.prepare<[], number>('SELECT count(*) FROM journal').pluck();
  const selectCountAfter = db.prepare<[number], number>('SELECT count(*) FROM journal WHERE seq > ?').pluck();
  const deleteAcknowledged = db.prepare<[number, number, number, number]>(
    `DELETE FROM journal WHERE seq IN (
       SELECT seq FROM journal WHERE seq <= ? AND (ts < ? OR seq <= ?) ORDER BY seq LIMIT ?)`,
  );

  const lastSeq = (): number => selectLastSeq.get() ?? 0;
  // With no group known nothing counts as acknowledged, so nothing may be pruned.
  const prunablePosition = (): number => selectMinPosition.get() ?? 0;
  const countAfter = (position: number): number => selectCountAfter.get(position) ?? 0;
  const unacknowledged = (): number => countAfter(prunablePosition());

  function appendOne({ sessionId, event, raw, ts }: JournalAppend): JournalEntry {
    const at = ts ?? Date.now();
    const rawJson = raw === undefined || raw === null ? null : JSON.stringify(raw, BufferJSON.replacer);
    const { lastInsertRowid } = insert.run(sessionId, at, event.type, messageIdOf(event), JSON.stringify(event), rawJson);
    return { seq: Number(lastInsertRowid), sessionId, ts: at, event };
  }

  const appendMany = db.transaction((inputs: readonly JournalAppend[]): JournalEntry[] => inputs.map(appendOne));

  const ack = db.transaction((group: string, position: number, now: number): number => {
    const clamped = Math.min(assertPosition(position, 'position'), lastSeq());
    upsertGroup.run(group, clamped, now);
    return selectPosition.get(group) ?? clamped;
  });

  const prune = db.transaction((policy: RetentionPolicy): PruneOutcome => {
    const now = policy.now ?? Date.now();
    const upTo = prunablePosition();
    const maxCount = assertPosition(policy.maxCount, 'maxCount');
    // Beyond the newest maxCount seqs (O(1); an OFFSET scan would walk maxCount rows).
    const countBoundary = lastSeq() - maxCount;
    const limit = policy.maxDelete === undefined ? -1 : assertPosition(policy.maxDelete, 'maxDelete');
    const pruned = upTo > 0 && limit !== 0 ? deleteAcknowledged.run(upTo, now - policy.maxAgeMs, countBoundary, limit).changes : 0;
    const waiting = countAfter(upTo);
    return { pruned, unacknowledged: waiting, full: waiting > policy.maxUnacknowledged };
  });

  return {
    append: appendOne,

    appendMany(inputs: readonly JournalAppend[]): JournalEntry[] {
      return inputs.length === 0 ? [] : appendMany(inputs);
    },

    readAfter(position: number, limit: number): JournalEntry[] {
      assertPosition(position, 'position');
      if (!Number.isSafeInteger(limit) || limit < 1) {
        throw new StickerbotError('INVALID_ARGS', `limit must be a positive integer, got ${String(limit)}`);
      }
      return selectAfter.all(position, limit).map((row) => ({
        seq: row.seq,
        sessionId: row.session_id,
        ts: row.ts,
        event: JSON.parse(row.event) as BotEvent,
      }));
    },

    findRawMessage(sessionId: string, messageId: string): unknown {
      const raw = selectRaw.get(sessionId, messageId);
      return raw === undefined || raw === null ? undefined : (JSON.parse(raw, BufferJSON.reviver) as unknown);
    },

    ack(group: string, position: number): number {
      return ack(group, position, Date.now());
    },

    position(group: string): number {
      return selectPosition.get(group) ?? 0;
    },

    positions(): GroupPosition[] {
      return selectGroups.all().map((row) => ({ group: row.name, position: row.position, updatedAt: row.updated_at }));
    },

    lastSeq,

    prune(policy: RetentionPolicy): PruneOutcome {
      return prune(policy);
    },

    count(): number {
      return selectCount.get() ?? 0;
    },

    removeGroup(group: string): boolean {
      return deleteGroup.run(group).changes > 0;
    },

    unacknowledged,
  };
}
