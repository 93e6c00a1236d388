/**
 * The cluster's registry of sessions in Redis (the `SessionStore` of cluster mode): one hash,
 * session id → `StoredSession` JSON, so every daemon knows every session, its last status
 * and whether it runs (`autostart`), whichever daemon owns it. Registering a session (the
 * dashboard, `STICKERBOT_SESSIONS`) is an unconditional write; the owner's status updates
 * carry its lease epoch and are refused (`LEASE_FENCED`) once the session moved, so a daemon
 * that lost a session cannot overwrite its new owner's status. `createdAt` is kept by the
 * script on every update, as the SQLite store does.
 */
import { accountSchema, sessionStatusSchema, wireErrorSchema } from '@stickerbot/protocol';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { SessionStore, StoredSession } from '../storage/index.js';
import { ClusterError, defineScript, toClusterError } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

/** What {@link RedisSessionStore.save} takes (as the SQLite store's `save`). */
export type SessionSave = Parameters<SessionStore['save']>[0];

/** The registry of sessions in Redis (asynchronous `SessionStore`). */
export interface RedisSessionStore {
  /** Every session, oldest first. */
  list(): Promise<StoredSession[]>;
  get(id: string): Promise<StoredSession | undefined>;
  /**
   * Inserts or updates (by id), keeping `createdAt`. With `epoch`, only while the session's
   * lease holds that epoch (the owner's status updates): `LEASE_FENCED` otherwise.
   */
  save(session: SessionSave, epoch?: number): Promise<StoredSession>;
  /** Registers a session unless one of this id exists (`HSETNX`: two daemons registering one id at once keep the first). Whether it was added. */
  insert(session: SessionSave): Promise<boolean>;
  remove(id: string): Promise<void>;
  /** Ids of the sessions marked to run (what the balancer divides). */
  autostartIds(): Promise<string[]>;
}

const storedSchema = z.object({
  id: z.string(),
  status: sessionStatusSchema,
  autostart: z.boolean(),
  account: accountSchema.optional(),
  lastError: wireErrorSchema.optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
});

// KEYS[1]: the sessions hash, KEYS[2]: the session's lease. ARGV: id, record JSON without
// createdAt (an object, at least one field), now, epoch ('' for an unfenced write).
const SAVE = `
if ARGV[4] ~= '' then
  local epoch = redis.call('HGET', KEYS[2], 'epoch')
  if epoch ~= ARGV[4] then return {0, epoch or ''} end
end
local createdAt = ARGV[3]
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local ok, decoded = pcall(cjson.decode, old)
  if ok and type(decoded) == 'table' and type(decoded.createdAt) == 'number' then createdAt = string.format('%.0f', decoded.createdAt) end
end
local record = '{"createdAt":' .. createdAt .. ',' .. string.sub(ARGV[2], 2)
redis.call('HSET', KEYS[1], ARGV[1], record)
return {1, record}`;


/** A session's stored record, without `createdAt` (the writer keeps the first one). */
export function recordOf(session: SessionSave, updatedAt: number): Omit<StoredSession, 'createdAt'> {
  return {
    id: session.id,
    status: session.status,
    autostart: session.autostart,
    ...(session.account === undefined ? {} : { account: session.account }),
    ...(session.lastError === undefined ? {} : { lastError: session.lastError }),
    updatedAt,
  };
}

/** The registry's order: oldest first, then by id. */
export const byAge = (a: StoredSession, b: StoredSession): number => a.createdAt - b.createdAt || a.id.localeCompare(b.id);

/** Creates the Redis session store. */
export function createRedisSessionStore(redis: Redis, keys: RedisKeys): RedisSessionStore {
  const saveScript = defineScript<[number, string]>(redis, 'stickerbotSessionSave', 2, SAVE);

  function decode(id: string, text: string): StoredSession {
    let parsed: z.ZodSafeParseResult<z.infer<typeof storedSchema>>;
    try {
      parsed = storedSchema.safeParse(JSON.parse(text));
    } catch (cause) {
      throw new ClusterError('CLUSTER_DATA', `the stored record of session ${id} is not JSON`, { cause });
    }
    if (!parsed.success) throw new ClusterError('CLUSTER_DATA', `the stored record of session ${id} is malformed: ${parsed.error.message}`);
    const { account, lastError, ...rest } = parsed.data;
    return { ...rest, ...(account ? { account } : {}), ...(lastError ? { lastError } : {}) };
  }

  async function read<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toClusterError(error, what);
    }
  }

  const store: RedisSessionStore = {
    async list() {
      const all = await read('could not list the sessions', () => redis.hgetall(keys.sessions));
      return Object.entries(all)
        .map(([id, text]) => decode(id, text))
        .sort(byAge);
    },
    async get(id) {
      const text = await read(`could not read session ${id}`, () => redis.hget(keys.sessions, id));
      return text === null ? undefined : decode(id, text);
    },
    async save(session, epoch) {
      const updatedAt = session.updatedAt ?? Date.now();
      const record = recordOf(session, updatedAt);
      const [done, reply] = await saveScript([keys.sessions, keys.session(session.id).lease], [session.id, JSON.stringify(record), updatedAt, epoch ?? '']);
      if (done !== 1) {
        throw new ClusterError('LEASE_FENCED', `the status of session ${session.id} refused: written at epoch ${epoch}, the lease ${reply ? `is at epoch ${reply}` : 'is not held'}`);
      }
      return decode(session.id, reply);
    },
    async insert(session) {
      const at = session.updatedAt ?? Date.now();
      const record = { createdAt: at, ...recordOf(session, at) };
      return (await read(`could not register session ${session.id}`, () => redis.hsetnx(keys.sessions, session.id, JSON.stringify(record)))) === 1;
    },
    async remove(id) {
      await read(`could not remove session ${id}`, () => redis.hdel(keys.sessions, id));
    },
    async autostartIds() {
      return (await store.list()).filter((s) => s.autostart).map((s) => s.id);
    },
  };
  return store;
}
