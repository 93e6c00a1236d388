/**
 * Reads a (possibly crashed) daemon's journal straight from its SQLite file, read-only.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { unpackText, type StoredText } from '@stickerbot/daemon';

/** What the journal holds. */
export interface JournalSnapshot {
  integrity: string;
  lastSeq: number;
  /** Message ids of `message:received` entries, with how many entries each has. */
  messages: Map<string, number>;
  /** The `seq` of each message id's first entry. */
  firstSeq: Map<string, number>;
  /** Whether seq values strictly increase in insertion order (no rewrites). */
  ordered: boolean;
  positions: Map<string, number>;
}

/** The journal's events of `type` with their `seq`, in order, read-only from `<dataDir>/daemon.sqlite`. */
export function readJournalEvents(dataDir: string, type: string): Array<{ seq: number; event: Record<string, unknown> }> {
  const db = new Database(join(dataDir, 'daemon.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT seq, event FROM journal WHERE type = ? ORDER BY seq').all(type) as Array<{ seq: number; event: StoredText }>;
    return rows.map((row) => ({ seq: row.seq, event: JSON.parse(unpackText(row.event)) as Record<string, unknown> }));
  } finally {
    db.close();
  }
}

/** Opens `<dataDir>/daemon.sqlite` read-only and reads the journal. */
export function readJournal(dataDir: string): JournalSnapshot {
  const db = new Database(join(dataDir, 'daemon.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const integrity = (db.pragma('integrity_check', { simple: true }) as string) ?? '';
    const rows = db.prepare("SELECT seq, message_id FROM journal WHERE type = 'message:received' ORDER BY rowid").all() as Array<{
      seq: number;
      message_id: string | null;
    }>;
    const messages = new Map<string, number>();
    const firstSeq = new Map<string, number>();
    let ordered = true;
    let previous = 0;
    for (const row of rows) {
      if (row.seq <= previous) ordered = false;
      previous = row.seq;
      if (!row.message_id) continue;
      messages.set(row.message_id, (messages.get(row.message_id) ?? 0) + 1);
      if (!firstSeq.has(row.message_id)) firstSeq.set(row.message_id, row.seq);
    }
    const lastSeq = (db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM journal').get() as { seq: number }).seq;
    const positions = new Map(
      (db.prepare('SELECT name, position FROM journal_groups').all() as Array<{ name: string; position: number }>).map((row) => [row.name, row.position]),
    );
    return { integrity, lastSeq, messages, firstSeq, ordered, positions };
  } finally {
    db.close();
  }
}
