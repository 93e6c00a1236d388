import type { SqliteDatabase } from '@stickerbot/runtime';

/** A user's default sticker pack metadata. */
export interface PackDefaults {
  pack: string;
  author: string;
}

/** Per-chat settings and per-user pack defaults. */
export interface SettingsStore {
  /** The chat's explicit auto-sticker setting, or `undefined` for "the default". */
  autosticker(sessionId: string, chat: string): boolean | undefined;
  setAutosticker(sessionId: string, chat: string, on: boolean): void;
  /** The user's pack defaults, if they set any. */
  pack(user: string): PackDefaults | undefined;
  setPack(user: string, defaults: PackDefaults): void;
  clearPack(user: string): boolean;
}

/** The SQLite {@link SettingsStore}. */
export function createSettingsStore(db: SqliteDatabase, now: () => number = Date.now): SettingsStore {
  const getAuto = db.prepare<[string, string], { autosticker: number | null }>(
    'SELECT autosticker FROM chat_settings WHERE session_id = ? AND chat = ?',
  );
  const setAuto = db.prepare<[string, string, number, number]>(
    `INSERT INTO chat_settings (session_id, chat, autosticker, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (session_id, chat) DO UPDATE SET autosticker = excluded.autosticker, updated_at = excluded.updated_at`,
  );
  const getPack = db.prepare<[string], PackDefaults>('SELECT pack, author FROM user_packs WHERE user_jid = ?');
  const setPack = db.prepare<[string, string, string, number]>(
    `INSERT INTO user_packs (user_jid, pack, author, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (user_jid) DO UPDATE SET pack = excluded.pack, author = excluded.author, updated_at = excluded.updated_at`,
  );
  const deletePack = db.prepare<[string]>('DELETE FROM user_packs WHERE user_jid = ?');

  return {
    autosticker(sessionId, chat) {
      const value = getAuto.get(sessionId, chat)?.autosticker;
      return value === undefined || value === null ? undefined : value === 1;
    },
    setAutosticker: (sessionId, chat, on) => void setAuto.run(sessionId, chat, Number(on), now()),
    pack: (user) => getPack.get(user),
    setPack: (user, defaults) => void setPack.run(user, defaults.pack, defaults.author, now()),
    clearPack: (user) => deletePack.run(user).changes > 0,
  };
}
