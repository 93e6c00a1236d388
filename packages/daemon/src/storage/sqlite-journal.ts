import { StickerbotError, type BotEvent, type JournalEntry } from '@stickerbot/protocol';
import type { WAMessage } from '@whiskeysockets/baileys';
import type { SqliteDatabase } from './sqlite-database.js';
import { packText, unpackText, type StoredText } from './packed-text.js';
import { decodeRawMessage, encodeRawMessage } from './raw-message-codec.js';
import type { GroupPosition, Journal, JournalAppend, PruneOutcome, RetentionPolicy } from './stores.js';

/** The SQLite journal: {@link Journal} plus a few administrative extras. */
export interface SqliteJournal extends Journal {
  appendMany(inputs: readonly JournalAppend[]): JournalEntry[];
  /** Writes the acknowledged positions not written yet and stops their timer; call before closing the database. */
  close(): void;
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
  event: StoredText;
}

interface MessageRow {
  seq: number;
  session_id: string;
  message_id: string;
}

/** Options of {@link createSqliteJournal}. */
export interface SqliteJournalOptions {
  /** How long an acknowledged position waits to be written (ms, default {@link DEFAULT_POSITION_DELAY_MS}). */
  positionDelayMs?: number;
  /** Told when writing acknowledged positions failed (they stay in memory and are written with the next one). */
  onPositionError?: (err: unknown) => void;
}

/**
 * How long an acknowledged position waits to be written by default (ms). Each write is a
 * commit of its own (the group's row and the database header, 1 KB WAL frames), and a worker
 * acknowledges every 250 ms: at one message a second each consumer group wrote a position
 * after each entry (issue #16, D); now every group's positions of five seconds are one
 * commit. Positions are read through memory, so nothing sees the delay but a crash, which
 * loses at most this much of them: the stored position is where a worker that presents none
 * resumes, and entries after it are delivered again (at least once, as after any reconnect;
 * the protocol asks workers to deduplicate).
 */
export const DEFAULT_POSITION_DELAY_MS = 5_000;

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

const hasMedia = (event: BotEvent): boolean => event.type === 'message:received' && event.message.media !== undefined;

/**
 * The durable event journal in the daemon's SQLite database (tables `journal`,
 * `journal_groups` and `journal_high_water`, see migrations/).
 *
 * - `seq` is strictly increasing and never reused, even after every entry was pruned and
 *   the daemon restarted: the journal hands out `lastSeq + 1` itself (kept in memory, read
 *   at open as max(highest seq held, high-water mark)), and `prune` stores the high-water
 *   mark in the same transaction as its delete (migration 002: no AUTOINCREMENT, whose
 *   sqlite_sequence update cost one more WAL page per event). One journal instance per
 *   database file appends.
 * - `append` is one prepared INSERT in autocommit mode: when it returns the entry is in
 *   the WAL, so a process crash (even SIGKILL) cannot lose it (see `SynchronousLevel` in
 *   sqlite-database.ts for power loss). `appendMany` commits a batch (one `messages.upsert`) at once,
 *   all or nothing. Measured with `pnpm bench:bridge`.
 * - The raw Baileys `WAMessage` is stored by `raw-message-codec.ts` (JSON, with a media
 *   message's content as protobuf bytes) and `findRawMessage` returns it typed, with its
 *   Buffers (or throws `INTERNAL` for a row that does not decode). The event and the raw
 *   message are stored packed (`packed-text.ts`: a text message's row ~250 bytes instead of
 *   ~650, so at least three share a 1 KB page and most appends rewrite one leaf instead of adding a
 *   leaf, its parent and the database header); rows written before are TEXT and read as such.
 * - An append writes its journal row and nothing else: one B-tree page in the WAL. The
 *   message-id lookup behind `findRawMessage` is a map in memory (per session, message id →
 *   seq of its newest row that holds a raw message), read from the journal's `message_id`
 *   column at open and trimmed as retention prunes, so it holds what the journal holds. On
 *   disk it was an index keyed by (session, message id) (migration 003, dropped by 007):
 *   random keys, so once it outgrew a batch each indexed message rewrote a 1 KB leaf of its
 *   own, and the checkpoint copied it again (issue #16, D over 30 minutes of traffic). In
 *   memory it costs about 90 bytes a message: 8.6 MB of heap and 0.35 s at open for
 *   `STICKERBOT_JOURNAL_MAX_COUNT`'s default 100,000 (texts with 20-character ids, 10 sessions).
 * - Positions are per consumer group and cumulative; `prune` deletes only entries every
 *   known group has acknowledged (none while no group is known) and reports the journal
 *   `full` when more than `maxUnacknowledged` entries wait: loud, never silent loss. An
 *   acknowledged position is written `positionDelayMs` later, every group's in one commit
 *   (and before a prune, and at close); reads see it at once.
 */
export function createSqliteJournal(db: SqliteDatabase, options: SqliteJournalOptions = {}): SqliteJournal {
  const positionDelayMs = Math.max(0, options.positionDelayMs ?? DEFAULT_POSITION_DELAY_MS);
  const insert = db.prepare<[number, string, number, string, string | null, StoredText, StoredText | null]>(
    'INSERT INTO journal (seq, session_id, ts, type, message_id, event, raw) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const selectAfter = db.prepare<[number, number], EntryRow>(
    'SELECT seq, session_id, ts, event FROM journal WHERE seq > ? ORDER BY seq LIMIT ?',
  );
  const selectRawBySeq = db.prepare<[number], StoredText | null>('SELECT raw FROM journal WHERE seq = ?').pluck();
  const selectMessages = db.prepare<[], MessageRow>(
    'SELECT seq, session_id, message_id FROM journal WHERE message_id IS NOT NULL AND raw IS NOT NULL ORDER BY seq',
  );
  const selectFirstSeq = db.prepare<[], number | null>('SELECT min(seq) FROM journal').pluck();
  const selectLastSeq = db
    .prepare<[], number>('SELECT max(coalesce((SELECT max(seq) FROM journal), 0), coalesce((SELECT seq FROM journal_high_water WHERE id = 1), 0))')
    .pluck();
  const storeHighWater = db.prepare<[number]>(
    'INSERT INTO journal_high_water (id, seq) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET seq = max(seq, excluded.seq)',
  );
  const upsertGroup = db.prepare<[string, number, number]>(
    `INSERT INTO journal_groups (name, position, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET position = max(position, excluded.position), updated_at = excluded.updated_at`,
  );
  const insertGroup = db.prepare<[string, number, number]>(
    'INSERT INTO journal_groups (name, position, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING',
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

  let highest = selectLastSeq.get() ?? 0;

  // The message-id lookup: per session, message id → seq of the newest row holding that
  // message. A session's map is in seq order (a repeated id moves to its end), so pruning
  // trims it from its start.
  const messages = new Map<string, Map<string, number>>();

  function remember(sessionId: string, messageId: string, seq: number): void {
    let ids = messages.get(sessionId);
    if (!ids) messages.set(sessionId, (ids = new Map<string, number>()));
    ids.delete(messageId);
    ids.set(messageId, seq);
  }

  /** Forgets the messages of the rows a prune deleted: every seq below the first one held. */
  function forgetPruned(): void {
    const first = selectFirstSeq.get() ?? highest + 1;
    for (const [sessionId, ids] of messages) {
      for (const [messageId, seq] of ids) {
        if (seq >= first) break;
        ids.delete(messageId);
      }
      if (ids.size === 0) messages.delete(sessionId);
    }
  }

  /** The stored raw message of an id (a row a prune took out of the middle finds nothing). */
  function storedRaw(sessionId: string, messageId: string): StoredText | undefined {
    const seq = messages.get(sessionId)?.get(messageId);
    return seq === undefined ? undefined : (selectRawBySeq.get(seq) ?? undefined);
  }

  // Row by row: a full journal is 100,000 of them.
  for (const row of selectMessages.iterate()) remember(row.session_id, row.message_id, row.seq);
  const lastSeq = (): number => highest;
  // With no group known nothing counts as acknowledged, so nothing may be pruned.
  const prunablePosition = (): number => selectMinPosition.get() ?? 0;
  const countAfter = (position: number): number => selectCountAfter.get(position) ?? 0;
  const unacknowledged = (): number => countAfter(prunablePosition());

  /**
   * Inserts one row (in the caller's transaction, or its own). Returns the entry, and the
   * message id to index when the row holds a raw message (only those can be found).
   */
  function insertEntry({ sessionId, event, raw, ts }: JournalAppend): { entry: JournalEntry; indexed: string | null } {
    const at = ts ?? Date.now();
    const rawJson = raw === undefined ? null : encodeRawMessage(raw, hasMedia(event));
    const seq = highest + 1;
    const messageId = messageIdOf(event);
    insert.run(seq, sessionId, at, event.type, messageId, packText(JSON.stringify(event), 'event'), rawJson === null ? null : packText(rawJson, 'raw'));
    highest = seq;
    return { entry: { seq, sessionId, ts: at, event }, indexed: rawJson === null ? null : messageId };
  }

  const rememberInserted = ({ entry, indexed }: { entry: JournalEntry; indexed: string | null }): void => {
    if (indexed !== null) remember(entry.sessionId, indexed, entry.seq);
  };

  function appendOne(input: JournalAppend): JournalEntry {
    const inserted = insertEntry(input);
    rememberInserted(inserted);
    return inserted.entry;
  }

  const appendManyTx = db.transaction((inputs: readonly JournalAppend[]) => inputs.map(insertEntry));
  const appendMany = (inputs: readonly JournalAppend[]): JournalEntry[] => {
    const before = highest;
    let inserted: ReturnType<typeof insertEntry>[];
    try {
      inserted = appendManyTx(inputs);
    } catch (err) {
      // Rolled back: those seqs were never handed out.
      highest = before;
      throw err;
    }
    inserted.forEach(rememberInserted);
    return inserted.map(({ entry }) => entry);
  };

  let closed = false;
  // Acknowledged positions not written yet, by group: the highest one and when it came.
  const pendingPositions = new Map<string, { position: number; at: number }>();
  let positionTimer: NodeJS.Timeout | undefined;

  const writePositions = db.transaction((rows: ReadonlyArray<[string, { position: number; at: number }]>) => {
    for (const [group, { position, at }] of rows) upsertGroup.run(group, position, at);
  });

  function flushPositions(): void {
    if (positionTimer) clearTimeout(positionTimer);
    positionTimer = undefined;
    if (pendingPositions.size === 0 || !db.open) return;
    writePositions([...pendingPositions]);
    pendingPositions.clear();
  }

  /** A group's position: the stored one, or the acknowledged one not written yet. */
  const currentPosition = (group: string): number | undefined => pendingPositions.get(group)?.position ?? selectPosition.get(group);

  function ack(group: string, position: number, now: number): number {
    const clamped = Math.min(assertPosition(position, 'position'), lastSeq());
    const current = currentPosition(group);
    if (current !== undefined && current >= clamped) return current;
    pendingPositions.set(group, { position: clamped, at: now });
    if (!closed && !positionTimer) {
      positionTimer = setTimeout(() => {
        try {
          flushPositions();
        } catch (err) {
          options.onPositionError?.(err);
        }
      }, positionDelayMs);
      positionTimer.unref();
    }
    if (closed) flushPositions();
    return clamped;
  }

  const ensureGroup = db.transaction((group: string, position: number, now: number): number => {
    const clamped = Math.min(assertPosition(position, 'position'), lastSeq());
    insertGroup.run(group, clamped, now);
    return currentPosition(group) ?? clamped;
  });

  const pruneAcknowledged = db.transaction((policy: RetentionPolicy): PruneOutcome => {
    const now = policy.now ?? Date.now();
    const upTo = prunablePosition();
    const maxCount = assertPosition(policy.maxCount, 'maxCount');
    // Beyond the newest maxCount seqs (O(1); an OFFSET scan would walk maxCount rows).
    const countBoundary = lastSeq() - maxCount;
    const limit = policy.maxDelete === undefined ? -1 : assertPosition(policy.maxDelete, 'maxDelete');
    const pruned = upTo > 0 && limit !== 0 ? deleteAcknowledged.run(upTo, now - policy.maxAgeMs, countBoundary, limit).changes : 0;
    if (pruned > 0) storeHighWater.run(highest);
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
        event: JSON.parse(unpackText(row.event)) as BotEvent,
      }));
    },

    findRawMessage(sessionId: string, messageId: string): WAMessage | undefined {
      const stored = storedRaw(sessionId, messageId);
      if (stored === undefined) return undefined;
      try {
        return decodeRawMessage(unpackText(stored));
      } catch (cause) {
        throw new StickerbotError('INTERNAL', `the journaled message ${messageId} of session "${sessionId}" cannot be read`, { cause });
      }
    },

    hasMessage: (sessionId: string, messageId: string) => storedRaw(sessionId, messageId) !== undefined,

    close(): void {
      closed = true;
      flushPositions();
    },

    ack(group: string, position: number): number {
      return ack(group, position, Date.now());
    },

    ensureGroup(group: string, position: number): number {
      return ensureGroup(group, position, Date.now());
    },

    position(group: string): number {
      return currentPosition(group) ?? 0;
    },

    positions(): GroupPosition[] {
      const stored = new Map(selectGroups.all().map((row) => [row.name, { position: row.position, at: row.updated_at }]));
      for (const [group, pending] of pendingPositions) stored.set(group, pending);
      return [...stored]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([group, { position, at }]) => ({ group, position, updatedAt: at }));
    },

    lastSeq,

    prune(policy: RetentionPolicy): PruneOutcome {
      flushPositions();
      const outcome = pruneAcknowledged(policy);
      // After the commit: a prune that rolled back deleted nothing.
      if (outcome.pruned > 0) forgetPruned();
      return outcome;
    },

    count(): number {
      return selectCount.get() ?? 0;
    },

    removeGroup(group: string): boolean {
      const pending = pendingPositions.delete(group);
      return deleteGroup.run(group).changes > 0 || pending;
    },

    unacknowledged,
  };
}
