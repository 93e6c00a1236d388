import type { SqliteDatabase } from '@stickerbot/runtime';

/** Uses of one command. */
export interface CommandCount {
  command: string;
  uses: number;
  failures: number;
}

/** Usage statistics per command, user and chat. */
export interface StatsStore {
  /** Counts one use of `command` by `user` in `chat`. */
  record(command: string, user: string, chat: string, ok: boolean): void;
  /** Uses per command, most used first, filtered by user and/or chat. */
  counts(filter?: { user?: string; chat?: string }): CommandCount[];
  /** How many distinct users ever ran a command. */
  users(): number;
}

/** The SQLite {@link StatsStore}. */
export function createStatsStore(db: SqliteDatabase, now: () => number = Date.now): StatsStore {
  const record = db.prepare<[string, string, string, number, number]>(
    `INSERT INTO usage_stats (command, user_jid, chat, uses, failures, last_used_at) VALUES (?, ?, ?, 1, ?, ?)
     ON CONFLICT (command, user_jid, chat) DO UPDATE SET uses = uses + 1, failures = failures + excluded.failures,
       last_used_at = excluded.last_used_at`,
  );
  const counts = db.prepare<[{ user: string | null; chat: string | null }], CommandCount>(
    `SELECT command, sum(uses) AS uses, sum(failures) AS failures FROM usage_stats
     WHERE (@user IS NULL OR user_jid = @user) AND (@chat IS NULL OR chat = @chat)
     GROUP BY command ORDER BY uses DESC, command`,
  );
  const users = db.prepare<[], { n: number }>('SELECT count(DISTINCT user_jid) AS n FROM usage_stats');
  return {
    record: (command, user, chat, ok) => void record.run(command, user, chat, ok ? 0 : 1, now()),
    counts: (filter = {}) => counts.all({ user: filter.user ?? null, chat: filter.chat ?? null }),
    users: () => users.get()?.n ?? 0,
  };
}
