import { StickerbotError, type BotEvent, type JournalEntry } from '@stickerbot/protocol';
import type { WAMessage } from '@whiskeysockets/baileys';
import type { SqliteDatabase } from './sqlite-database.js';
import { packText, unpackText, type StoredText } from './packed-text.js';
import { decodeRawMessage, encodeRawMessage } from './raw-message-codec.js';
import type { GroupPosition, Journal, JournalAppend, PruneOutcome, RetentionPolicy } from './stores.js';

/** The SQLite journal: {@link Journal} plus a few administrative extras. */
export interface SqliteJournal extends Journal {
  appendMany(inputs: readonly JournalAppend[]): JournalEntry[];
  /** Writes the message-id index of every appended message now (tests, shutdown). */
  flushIndex(): void;
  /** Flushes the message-id index and stops its timer; call before closing the database. */
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
  /**
   * How long an appended message waits to be written to the message-id index (ms, default
   * {@link DEFAULT_INDEX_DELAY_MS}).
   */
  indexDelayMs?: number;
  /** Index at once (on the next turn of the event loop) when this many messages wait (default 512). */
  indexBatch?: number;
  /** Told when writing the index failed (it is retried with the next batch; lookups keep working). */
  onIndexError?: (err: unknown) => void;
  /** How long an acknowledged position waits to be written (ms, default {@link DEFAULT_POSITION_DELAY_MS}). */
  positionDelayMs?: number;
  /** Told when writing acknowledged positions failed (they stay in memory and are written with the next one). */
  onPositionError?: (err: unknown) => void;
}

/**
 * How long an appended message waits for the message-id index by default (ms). Each index
 * batch is a commit of its own that rewrites the index's last pages and the database header
 * whole (1 KB WAL frames): at 200 ms that was about 1.8 frames per message at ten messages a
 * second (issue #16, `pnpm bench:sessions --real`); at 2 s still about one a message at one
 * message a second; at 10 s a batch holds every message of those seconds (or `indexBatch`
 * of them, whichever comes first). Nothing waits for it: lookups find unindexed messages in
 * memory, and a crash loses no lookup (the rows are read back at open).
 */
export const DEFAULT_INDEX_DELAY_MS = 10_000;

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
 * `journal_groups` and `journal_messages`, see migrations/).
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
 *   message-id lookup behind `findRawMessage` lives in `journal_messages` (migration 003),
 *   written in one transaction per batch, `indexDelayMs` after the first unindexed message
 *   or as soon as `indexBatch` wait. Until then the messages are found through an
 *   in-memory map, and at open the message rows after the highest indexed seq are read
 *   back into it, so no lookup is lost to a crash.
 * - Positions are per consumer group and cumulative; `prune` deletes only entries every
 *   known group has acknowledged (none while no group is known) and reports the journal
 *   `full` when more than `maxUnacknowledged` entries wait: loud, never silent loss. An
 *   acknowledged position is written `positionDelayMs` later, every group's in one commit
 *   (and before a prune, and at close); reads see it at once.
 */
export function createSqliteJournal(db: SqliteDatabase, options: SqliteJournalOptions = {}): SqliteJournal {
  const indexDelayMs = Math.max(0, options.indexDelayMs ?? DEFAULT_INDEX_DELAY_MS);
  const indexBatch = Math.max(1, options.indexBatch ?? 512);
  const positionDelayMs = Math.max(0, options.positionDelayMs ?? DEFAULT_POSITION_DELAY_MS);
  const insert = db.prepare<[number, string, number, string, string | null, StoredText, StoredText | null]>(
    'INSERT INTO journal (seq, session_id, ts, type, message_id, event, raw) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const selectAfter = db.prepare<[number, number], EntryRow>(
    'SELECT seq, session_id, ts, event FROM journal WHERE seq > ? ORDER BY seq LIMIT ?',
  );
  const selectRawBySeq = db.prepare<[number], StoredText | null>('SELECT raw FROM journal WHERE seq = ?').pluck();
  const selectRawIndexed = db
    .prepare<[string, string], StoredText | null>(
      `SELECT journal.raw FROM journal_messages JOIN journal ON journal.seq = journal_messages.seq
       WHERE journal_messages.session_id = ? AND journal_messages.message_id = ? ORDER BY journal_messages.seq DESC LIMIT 1`,
    )
    .pluck();
  const insertIndex = db.prepare<[number, string, string]>(
    'INSERT OR IGNORE INTO journal_messages (seq, session_id, message_id) VALUES (?, ?, ?)',
  );
  const selectUnindexed = db.prepare<[], MessageRow>(
    `SELECT seq, session_id, message_id FROM journal
     WHERE seq > (SELECT coalesce(max(seq), 0) FROM journal_messages) AND message_id IS NOT NULL AND raw IS NOT NULL
     ORDER BY seq`,
  );
  const deleteIndexBefore = db.prepare<[number]>(
    'DELETE FROM journal_messages WHERE seq < coalesce((SELECT min(seq) FROM journal), ?)',
  );
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

  // Appended messages not in journal_messages yet, by lookup key: the newest row of a
  // message id is the one a lookup returns, so it is the one to index.
  const unindexed = new Map<string, MessageRow>();
  const keyOf = (sessionId: string, messageId: string): string => `${sessionId}\u0000${messageId}`;
  let indexTimer: NodeJS.Timeout | undefined;
  let indexSoon: NodeJS.Immediate | undefined;
  let closed = false;

  const writeIndex = db.transaction((rows: readonly MessageRow[]) => {
    for (const row of rows) insertIndex.run(row.seq, row.session_id, row.message_id);
  });

  function flushIndex(): void {
    if (indexTimer) clearTimeout(indexTimer);
    if (indexSoon) clearImmediate(indexSoon);
    indexTimer = undefined;
    indexSoon = undefined;
    if (unindexed.size === 0 || !db.open) return;
    writeIndex([...unindexed.values()]);
    unindexed.clear();
  }

  function flushInBackground(): void {
    try {
      flushIndex();
    } catch (err) {
      // Kept in memory and retried with the next batch; lookups still find them.
      options.onIndexError?.(err);
    }
  }

  function remember(rows: readonly MessageRow[]): void {
    for (const row of rows) unindexed.set(keyOf(row.session_id, row.message_id), row);
    if (closed || unindexed.size === 0) return;
    if (unindexed.size >= indexBatch) indexSoon ??= setImmediate(flushInBackground);
    else if (!indexTimer) {
      indexTimer = setTimeout(flushInBackground, indexDelayMs);
      indexTimer.unref();
    }
  }

  /** The stored raw message of an id: the in-memory map finds what the index does not hold yet. */
  function storedRaw(sessionId: string, messageId: string): StoredText | undefined {
    const recent = unindexed.get(keyOf(sessionId, messageId))?.seq;
    return (recent === undefined ? undefined : selectRawBySeq.get(recent)) ?? selectRawIndexed.get(sessionId, messageId) ?? undefined;
  }

  // Message rows a previous run appended but did not index (it crashed or was killed).
  remember(selectUnindexed.all());
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

  const messageRow = ({ entry, indexed }: { entry: JournalEntry; indexed: string | null }): MessageRow[] =>
    indexed === null ? [] : [{ seq: entry.seq, session_id: entry.sessionId, message_id: indexed }];

  function appendOne(input: JournalAppend): JournalEntry {
    const inserted = insertEntry(input);
    remember(messageRow(inserted));
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
    remember(inserted.flatMap(messageRow));
    return inserted.map(({ entry }) => entry);
  };

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
    if (pruned > 0) {
      storeHighWater.run(highest);
      // Index rows of pruned entries (any left in the middle find no journal row to join).
      deleteIndexBefore.run(highest + 1);
    }
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

    flushIndex,

    close(): void {
      closed = true;
      flushIndex();
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
      return pruneAcknowledged(policy);
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
