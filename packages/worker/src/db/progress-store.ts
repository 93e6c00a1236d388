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

/**
 * The worker's progress through the journal: its position and the message ids it has
 * handled. {@link ProgressStore.commit} writes both in one transaction, so a crash leaves
 * either the old state (the entry is replayed and handled again with the same command
 * ids) or the new one (the entry is skipped), never half of each.
 */
export interface ProgressStore {
  /** The last handled `seq` of this group (0: none). */
  position(): number;
  /** Whether this message was already handled. */
  isProcessed(sessionId: string, messageId: string): boolean;
  /** Records `seq` as handled (and the message, if any) atomically. */
  commit(seq: number, message?: HandledMessage): void;
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
  const commit = db.transaction((seq: number, message?: HandledMessage) => {
    const at = now();
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
    setPosition.run(group, seq, at);
  });

  return {
    position: () => getPosition.get(group)?.seq ?? 0,
    isProcessed: (sessionId, messageId) => getMessage.get(sessionId, messageId) !== undefined,
    commit: (seq, message) => commit(seq, message),
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
