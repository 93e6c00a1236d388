/**
 * Baileys auth state in Redis for cluster mode, fenced by the session's lease epoch
 * (session-lease.ts). Per session (redis-keys.ts): `creds`, a string, and `keys`, a hash of
 * `<type>:<id>` → value, both `BufferJSON` as in the SQLite store (storage/auth-codec.ts).
 *
 * Every write (creds save, `keys.set`, clear) is one Lua script that first reads the lease's
 * epoch and refuses the write unless it is the writer's: a daemon that lost the lease (paused,
 * cut off, slow) can never overwrite what the new owner wrote, whatever its local state
 * believes. A refused write is a `ClusterError` `LEASE_FENCED`. The keys of one `keys.set`
 * are written in that one script, so a Signal ratchet update is all or nothing. Reads are not
 * fenced: `keys.get` is one HMGET.
 *
 * Baileys asks the LID of a sender synchronously while it maps a message (`phoneOfLid`), so
 * each open session mirrors its `lid-mapping` keys in memory: loaded on open, kept current by
 * its own writes (only the lease holder writes them).
 */
import type { AuthenticationCreds, AuthenticationState, SignalDataSet, SignalDataTypeMap, SignalKeyStore } from '@whiskeysockets/baileys';
import type { Redis } from 'ioredis';
import {
  credsLoggedIn,
  decodeAuthValue,
  decodeSignalKey,
  encodeAuthValue,
  lidReverseKeyId,
  loadBaileys,
  phoneJidOfMapping,
  type AuthStore,
} from '../storage/index.js';
import { ClusterError, defineScript, toClusterError } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

type KeyType = keyof SignalDataTypeMap;

/** One session's auth state, opened by the holder of its lease at `epoch`. */
export interface RedisAuthSession {
  readonly sessionId: string;
  /** The lease epoch every write carries. */
  readonly epoch: number;
  /** What the socket factory takes (it adds Baileys' key cache). */
  readonly state: AuthenticationState;
  /** Writes `state.creds` (fenced). */
  saveCreds(): Promise<void>;
  /** Deletes the session's creds and keys (logout; fenced). */
  clear(): Promise<void>;
  /** Whether the creds completed a login. */
  hasCredentials(): boolean;
  /** The phone-number JID of a LID, from the in-memory mirror of the `lid-mapping` keys. */
  phoneOfLid(lid: string): string | undefined;
}

/** The Redis auth store. */
export interface RedisAuthStore {
  /** Loads a session's creds (fresh ones if none) and its LID mappings, for writes at `epoch`. */
  open(sessionId: string, epoch: number): Promise<RedisAuthSession>;
  /** Whether the session has stored creds that completed a login. */
  hasCredentials(sessionId: string): Promise<boolean>;
  /** How many Signal keys the session holds (all types). */
  keyCount(sessionId: string): Promise<number>;
}

// Shared head of every fenced write: KEYS[1] is the lease, ARGV[1] the writer's epoch.
// Refused: `{0, <epoch in the lease or ''>}`; done: `{1}`.
const FENCE = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if epoch ~= ARGV[1] then return {0, epoch or ''} end
`;

const SAVE_CREDS = `${FENCE}
redis.call('SET', KEYS[2], ARGV[2])
return {1}`;

// ARGV[2]: how many field/value pairs follow to set; every ARGV after them is a field to delete.
const SET_KEYS = `${FENCE}
local sets = tonumber(ARGV[2])
for i = 0, sets - 1 do
  redis.call('HSET', KEYS[2], ARGV[3 + 2 * i], ARGV[4 + 2 * i])
end
for i = 3 + 2 * sets, #ARGV do
  redis.call('HDEL', KEYS[2], ARGV[i])
end
return {1}`;

const CLEAR = `${FENCE}
redis.call('DEL', KEYS[2], KEYS[3])
return {1}`;

const LID_MAPPING = 'lid-mapping';

/** Creates the Redis auth store over one connection. */
export function createRedisAuthStore(redis: Redis, keys: RedisKeys): RedisAuthStore {
  const saveCredsScript = defineScript<[number, string?]>(redis, 'stickerbotAuthSaveCreds', 2, SAVE_CREDS);
  const setKeysScript = defineScript<[number, string?]>(redis, 'stickerbotAuthSetKeys', 2, SET_KEYS);
  const clearScript = defineScript<[number, string?]>(redis, 'stickerbotAuthClear', 3, CLEAR);

  async function fenced(what: string, sessionId: string, epoch: number, run: () => Promise<[number, string?]>): Promise<void> {
    const [done, held] = await run();
    if (done === 1) return;
    throw new ClusterError(
      'LEASE_FENCED',
      `${what} of session ${sessionId} refused: written at epoch ${epoch}, the lease ${held ? `is at epoch ${held}` : 'is not held'}`,
    );
  }

  async function read<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toClusterError(error, what);
    }
  }

  function decodeCreds(sessionId: string, text: string): AuthenticationCreds {
    try {
      return decodeAuthValue(text) as AuthenticationCreds;
    } catch (cause) {
      throw new ClusterError('CLUSTER_DATA', `the stored creds of session ${sessionId} are not readable`, { cause });
    }
  }

  return {
    async open(sessionId, epoch) {
      // Loaded before the state exists: its keys.get revives app-state keys with Baileys' proto.
      const { initAuthCreds } = await loadBaileys();
      const sessionKeys = keys.session(sessionId);
      const stored = await read(`could not load the creds of session ${sessionId}`, () => redis.get(sessionKeys.creds));
      const creds = stored === null ? initAuthCreds() : decodeCreds(sessionId, stored);
      const lidToPhone = new Map<string, string>();
      await read(`could not load the LID mappings of session ${sessionId}`, async () => {
        const stream = redis.hscanStream(sessionKeys.keys, { match: `${LID_MAPPING}:*_reverse`, count: 500 });
        for await (const chunk of stream as AsyncIterable<string[]>) {
          for (let i = 0; i + 1 < chunk.length; i += 2) {
            const phone = phoneJidOfMapping(chunk[i + 1] ?? '');
            if (phone) lidToPhone.set((chunk[i] ?? '').slice(LID_MAPPING.length + 1), phone);
          }
        }
      });

      const keyStore: SignalKeyStore = {
        async get<T extends KeyType>(type: T, ids: string[]): Promise<{ [id: string]: SignalDataTypeMap[T] }> {
          const data: { [id: string]: SignalDataTypeMap[T] } = {};
          if (ids.length === 0) return data;
          const values = await read(`could not read ${type} keys of session ${sessionId}`, () =>
            redis.hmget(sessionKeys.keys, ...ids.map((id) => `${type}:${id}`)),
          );
          ids.forEach((id, i) => {
            const value = values[i];
            if (value !== null && value !== undefined) data[id] = decodeSignalKey(type, value);
          });
          return data;
        },
        async set(data: SignalDataSet): Promise<void> {
          const sets: string[] = [];
          const deletes: string[] = [];
          const mirror: Array<[string, string | undefined]> = [];
          for (const type of Object.keys(data) as KeyType[]) {
            for (const [id, value] of Object.entries(data[type] ?? {})) {
              const field = `${type}:${id}`;
              // Baileys' reference store deletes on any falsy value (it is `null` in practice).
              if (value) sets.push(field, encodeAuthValue(value));
              else deletes.push(field);
              if (type === LID_MAPPING && id.endsWith('_reverse')) mirror.push([id, value ? phoneJidOfMapping(encodeAuthValue(value)) : undefined]);
            }
          }
          if (sets.length === 0 && deletes.length === 0) return;
          await fenced('a Signal keys write', sessionId, epoch, () =>
            setKeysScript([sessionKeys.lease, sessionKeys.keys], [epoch, sets.length / 2, ...sets, ...deletes]),
          );
          for (const [id, phone] of mirror) {
            if (phone) lidToPhone.set(id, phone);
            else lidToPhone.delete(id);
          }
        },
        async clear(): Promise<void> {
          await session.clear();
        },
      };

      const state: AuthenticationState = { creds, keys: keyStore };
      const session: RedisAuthSession = {
        sessionId,
        epoch,
        state,
        // Baileys mutates `state.creds` in place on `creds.update`; this writes the current object.
        saveCreds: () => fenced('a creds save', sessionId, epoch, () => saveCredsScript([sessionKeys.lease, sessionKeys.creds], [epoch, encodeAuthValue(state.creds)])),
        async clear() {
          await fenced('a clear', sessionId, epoch, () => clearScript([sessionKeys.lease, sessionKeys.creds, sessionKeys.keys], [epoch]));
          lidToPhone.clear();
        },
        hasCredentials: () => credsLoggedIn(state.creds),
        phoneOfLid(lid) {
          const keyId = lidReverseKeyId(lid);
          return keyId === undefined ? undefined : lidToPhone.get(keyId);
        },
      };
      return session;
    },

    async hasCredentials(sessionId) {
      const stored = await read(`could not read the creds of session ${sessionId}`, () => redis.get(keys.session(sessionId).creds));
      return stored !== null && credsLoggedIn(decodeCreds(sessionId, stored));
    },

    keyCount: (sessionId) => read(`could not count the keys of session ${sessionId}`, () => redis.hlen(keys.session(sessionId).keys)),
  };
}

/**
 * The daemon's synchronous {@link AuthStore} over the Redis sessions it holds: the cluster
 * opens a session's {@link RedisAuthSession} when its lease is acquired and attaches it here
 * before starting the session; the supervisor then opens, saves and clears through this view
 * as it does over SQLite. A session not attached (its lease is not held) cannot be opened:
 * `LEASE_NOT_HELD`.
 */
export interface LeasedAuthStore extends AuthStore {
  attach(session: RedisAuthSession): void;
  /** Forgets a session (after its socket stopped: released or lost). */
  detach(sessionId: string): void;
  /** The attached session, if any. */
  session(sessionId: string): RedisAuthSession | undefined;
}

/** Creates the {@link LeasedAuthStore} view. */
export function createLeasedAuthStore(): LeasedAuthStore {
  const sessions = new Map<string, RedisAuthSession>();
  const attached = (sessionId: string): RedisAuthSession => {
    const session = sessions.get(sessionId);
    if (!session) throw new ClusterError('LEASE_NOT_HELD', `this daemon does not hold the lease of session ${sessionId}`);
    return session;
  };
  return {
    attach: (session) => void sessions.set(session.sessionId, session),
    detach: (sessionId) => void sessions.delete(sessionId),
    session: (sessionId) => sessions.get(sessionId),
    open(sessionId) {
      const session = attached(sessionId);
      return { state: session.state, saveCreds: () => session.saveCreds() };
    },
    hasCredentials: (sessionId) => sessions.get(sessionId)?.hasCredentials() ?? false,
    clear: (sessionId) => attached(sessionId).clear(),
    phoneOfLid: (sessionId, lid) => sessions.get(sessionId)?.phoneOfLid(lid),
  };
}
