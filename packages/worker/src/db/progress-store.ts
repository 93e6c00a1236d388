import type { SqliteDatabase } from '@stickerbot/runtime';

/** What the bot remembers of a handled message's media (for later replies to it). */
export interface RememberedMessage {
  kind: string;
  mimetype: string | undefined;
  size: number | undefined;
  animated: boolean | undefined;
}

/** A handled message to record together with the new position. */
export interface HandledMessage extends RememberedMessage {
  sessionId: string;
  messageId: string;
  chat: string;
}

/** One handled journal entry to record (and the message it carried, if any). */
export interface HandledEntry {
  seq: number;
  message?: HandledMessage;
}

/** A run of handled entries and the position they lead to, written in one transaction. */
export interface ProgressBatch {
  /** The new position: the contiguous prefix of handled entries (never goes back). */
  position: number;
  /** Entries handled since the last batch, in any order. */
  handled: readonly HandledEntry[];
}

/**
 * The worker's progress through the journal: its position (every entry up to it handled),
 * the entries handled beyond it, and the message ids it has handled.
 * {@link ProgressStore.commit} writes a batch in one transaction, so a crash leaves either
 * the old state (those entries are replayed and handled again with the same command ids)
 * or the new one (they are skipped), never half of each.
 */
export interface ProgressStore {
  /** The last `seq` of the contiguous prefix of handled entries of this group (0: none). */
  position(): number;
  /** The `seq`s handled beyond {@link position}, ascending. */
  handledBeyond(): number[];
  /** Whether each of these messages was already handled (one read for all). */
  processed(messages: ReadonlyArray<{ sessionId: string; messageId: string }>): boolean[];
  /** Records a batch atomically: its messages, its entries beyond the new position, the position. */
  commit(batch: ProgressBatch): void;
  /** What the bot remembers of a message it handled. */
  remembered(sessionId: string, messageId: string): RememberedMessage | undefined;
  /** Forgets handled message ids older than `cutoff` (epoch ms); returns how many. */
  prune(cutoff: number): number;
}

interface MessageRow {
  kind: string;
  mimetype: string | null;
  size: number | null;
  animated: number | null;
}

/** The SQLite {@link ProgressStore} of one consumer group. */
export function createProgressStore(db: SqliteDatabase, group: string, now: () => number = Date.now): ProgressStore {
  const getPosition = db.prepare<[string], { seq: number }>('SELECT seq FROM position WHERE group_name = ?');
  const setPosition = db.prepare<[string, number, number]>(
    `INSERT INTO position (group_name, seq, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (group_name) DO UPDATE SET seq = max(seq, excluded.seq), updated_at = excluded.updated_at`,
  );
  const getMessage = db.prepare<[string, string], MessageRow>(
    'SELECT kind, mimetype, size, animated FROM processed_messages WHERE session_id = ? AND message_id = ?',
  );
  const insertMessage = db.prepare<[string, string, string, string, string | null, number | null, number | null, number, number]>(
    `INSERT OR IGNORE INTO processed_messages (session_id, message_id, chat, kind, mimetype, size, animated, seq, processed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const deleteOld = db.prepare<[number]>('DELETE FROM processed_messages WHERE processed_at < ?');
  const getBeyond = db.prepare<[string, number], { seq: number }>('SELECT seq FROM handled_entries WHERE group_name = ? AND seq > ? ORDER BY seq');
  const insertBeyond = db.prepare<[string, number]>('INSERT OR IGNORE INTO handled_entries (group_name, seq) VALUES (?, ?)');
  const deleteReached = db.prepare<[string, number]>('DELETE FROM handled_entries WHERE group_name = ? AND seq <= ?');
  const getPositionNow = () => getPosition.get(group)?.seq ?? 0;
  // In one read transaction: a statement outside one opens a WAL read snapshot of its own.
  const processed = db.transaction((messages: ReadonlyArray<{ sessionId: string; messageId: string }>) =>
    messages.map(({ sessionId, messageId }) => getMessage.get(sessionId, messageId) !== undefined),
  );
  const commit = db.transaction((batch: ProgressBatch) => {
    const at = now();
    for (const { seq, message } of batch.handled) {
      if (message) {
        insertMessage.run(
          message.sessionId,
          message.messageId,
          message.chat,
          message.kind,
          message.mimetype ?? null,
          message.size ?? null,
          message.animated === undefined ? null : Number(message.animated),
          seq,
          at,
        );
      }
      if (seq > batch.position) insertBeyond.run(group, seq);
    }
    const previous = getPositionNow();
    if (batch.position > previous) {
      setPosition.run(group, batch.position, at);
      deleteReached.run(group, batch.position);
    }
  });

  return {
    position: getPositionNow,
    handledBeyond: () => getBeyond.all(group, getPositionNow()).map((row) => row.seq),
    processed: (messages) => processed(messages),
    commit: (batch) => commit(batch),
    remembered(sessionId, messageId) {
      const row = getMessage.get(sessionId, messageId);
      if (!row) return undefined;
      return {
        kind: row.kind,
        mimetype: row.mimetype ?? undefined,
        size: row.size ?? undefined,
        animated: row.animated === null ? undefined : row.animated === 1,
      };
    },
    prune: (cutoff) => deleteOld.run(cutoff).changes,
  };
}
