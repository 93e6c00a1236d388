import type {
  AuthenticationCreds,
  AuthenticationState,
  SignalDataSet,
  SignalDataTypeMap,
  SignalKeyStore,
} from '@whiskeysockets/baileys';
import { credsLoggedIn, decodeAuthValue as revive, decodeSignalKey, encodeAuthValue as serialise, lidReverseKeyId, phoneJidOfMapping } from './auth-codec.js';
import { baileys } from './baileys-lib.js';
import { packText, sameStoredText, unpackText, type StoredText } from './packed-text.js';
import type { SqliteDatabase } from './sqlite-database.js';
import type { AuthStore } from './stores.js';

/** The SQLite auth store: {@link AuthStore} plus helpers for administration and tests. */
export interface SqliteAuthStore extends AuthStore {
  /** Loads (or initialises) one session's state; `saveCreds` writes `state.creds` synchronously. */
  open(sessionId: string): { state: AuthenticationState; saveCreds: () => void };
  /** Deletes every row of this session (logout), synchronously. */
  clear(sessionId: string): void;
  /** Session ids that have a stored creds row. */
  sessionIds(): string[];
  /** How many Signal key rows a session holds (all types). */
  keyCount(sessionId: string): number;
}

type KeyType = keyof SignalDataTypeMap;

/**
 * Baileys authentication state in the daemon's SQLite database (tables `auth_creds`, one
 * row per session, and `auth_keys`, one row per (session, key type, key id)), serialised
 * with Baileys' `BufferJSON` so key pairs and Signal sessions come back as Buffers.
 *
 * Semantics follow Baileys' own `useMultiFileAuthState` (lib/Utils/use-multi-file-auth-state.js),
 * which Baileys warns against in production because it writes one file per key:
 * - no stored creds: fresh `initAuthCreds()` (stored on the first `saveCreds`);
 * - `keys.get` revives `app-state-sync-key` values with
 *   `proto.Message.AppStateSyncKeyData.fromObject`; ids not stored are absent;
 * - `keys.set` writes a value and deletes on a falsy one (`null`), every change of one
 *   call in ONE transaction, so a crash never leaves half a Signal ratchet update behind.
 *
 * The socket factory puts the daemon's bounded cache in front of `state.keys` (`cached-key-store.ts`).
 */
export function createSqliteAuthStore(db: SqliteDatabase): SqliteAuthStore {
  const selectCreds = db.prepare<[string], StoredText>('SELECT creds FROM auth_creds WHERE session_id = ?').pluck();
  const upsertCreds = db.prepare<[string, StoredText, number]>(
    `INSERT INTO auth_creds (session_id, creds, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (session_id) DO UPDATE SET creds = excluded.creds, updated_at = excluded.updated_at`,
  );
  const selectKey = db
    .prepare<[string, string, string], StoredText>('SELECT value FROM auth_keys WHERE session_id = ? AND type = ? AND id = ?')
    .pluck();
  const upsertKey = db.prepare<[string, string, string, StoredText]>(
    `INSERT INTO auth_keys (session_id, type, id, value) VALUES (?, ?, ?, ?)
     ON CONFLICT (session_id, type, id) DO UPDATE SET value = excluded.value`,
  );
  const deleteKey = db.prepare<[string, string, string]>('DELETE FROM auth_keys WHERE session_id = ? AND type = ? AND id = ?');
  const deleteKeys = db.prepare<[string]>('DELETE FROM auth_keys WHERE session_id = ?');
  const deleteCreds = db.prepare<[string]>('DELETE FROM auth_creds WHERE session_id = ?');
  const selectSessionIds = db.prepare<[], string>('SELECT session_id FROM auth_creds ORDER BY session_id').pluck();
  const countKeys = db.prepare<[string], number>('SELECT count(*) FROM auth_keys WHERE session_id = ?').pluck();

  const setKeys = db.transaction((sessionId: string, data: SignalDataSet) => {
    for (const type of Object.keys(data) as KeyType[]) {
      const values = data[type] ?? {};
      for (const [id, value] of Object.entries(values)) {
        // Baileys' reference store deletes on any falsy value (it is `null` in practice).
        if (!value) {
          deleteKey.run(sessionId, type, id);
          continue;
        }
        // Baileys sets many keys again with the bytes they already have (device lists,
        // LID mappings, identities): reading one is far cheaper than writing its page. A
        // Signal session is set after each message it decrypts or encrypts, changed by it
        // (its chain advanced): the read would never find it the same. Packed (packed-text.ts:
        // a Signal session fits one page instead of a page and an overflow page); packing is
        // deterministic, so an unchanged value compares equal as stored.
        const stored = packText(serialise(value), 'auth');
        if (type === 'session' || !sameStoredText(selectKey.get(sessionId, type, id), stored)) upsertKey.run(sessionId, type, id, stored);
      }
    }
  });

  const clear = db.transaction((sessionId: string) => {
    deleteKeys.run(sessionId);
    deleteCreds.run(sessionId);
  });

  function keyStore(sessionId: string): SignalKeyStore {
    return {
      get<T extends KeyType>(type: T, ids: string[]): { [id: string]: SignalDataTypeMap[T] } {
        const data: { [id: string]: SignalDataTypeMap[T] } = {};
        for (const id of ids) {
          const stored = selectKey.get(sessionId, type, id);
          if (stored !== undefined) data[id] = decodeSignalKey(type, unpackText(stored));
        }
        return data;
      },
      set(data: SignalDataSet): void {
        setKeys(sessionId, data);
      },
      clear(): void {
        deleteKeys.run(sessionId);
      },
    };
  }

  return {
    open(sessionId: string): { state: AuthenticationState; saveCreds: () => void } {
      const stored = selectCreds.get(sessionId);
      const creds = stored === undefined ? baileys().initAuthCreds() : (revive(unpackText(stored)) as AuthenticationCreds);
      const state: AuthenticationState = { creds, keys: keyStore(sessionId) };
      // Baileys mutates `state.creds` in place on `creds.update`; this persists the current object.
      const saveCreds = (): void => {
        upsertCreds.run(sessionId, packText(serialise(state.creds), 'auth'), Date.now());
      };
      return { state, saveCreds };
    },

    hasCredentials(sessionId: string): boolean {
      const stored = selectCreds.get(sessionId);
      if (stored === undefined) return false;
      return credsLoggedIn(revive(unpackText(stored)) as Partial<AuthenticationCreds>);
    },

    clear(sessionId: string): void {
      clear(sessionId);
    },

    phoneOfLid(sessionId: string, lid: string): string | undefined {
      const keyId = lidReverseKeyId(lid);
      if (keyId === undefined) return undefined;
      const stored = selectKey.get(sessionId, 'lid-mapping', keyId);
      return stored === undefined ? undefined : phoneJidOfMapping(unpackText(stored));
    },

    sessionIds(): string[] {
      return selectSessionIds.all();
    },

    keyCount(sessionId: string): number {
      return countKeys.get(sessionId) ?? 0;
    },
  };
}
