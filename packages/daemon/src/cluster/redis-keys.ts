/**
 * The key layout of cluster mode in Redis, in one place (README, "Cluster mode"). Every key
 * starts with the prefix (default `stickerbot:`), so several deployments can share one Redis.
 * A session's keys carry the session id as a hash tag (`{id}`): the Lua scripts that fence an
 * auth write read the lease and write the auth keys in one call, which Redis Cluster allows
 * only for keys of one slot.
 */

/** The default prefix of every key (`STICKERBOT_REDIS_PREFIX` later). */
export const DEFAULT_REDIS_KEY_PREFIX = 'stickerbot:';

/** The keys of one session. */
export interface SessionKeys {
  /** Hash `{ owner, epoch }` with an expiry: who owns the session now (absent: nobody). */
  lease: string;
  /** Integer, never expires: the last fencing epoch handed out (INCR), so epochs only grow. */
  epoch: string;
  /** String: Baileys' creds, `BufferJSON`. */
  creds: string;
  /** Hash `<type>:<id>` → Signal key value, `BufferJSON`. */
  keys: string;
}

/** Names of every cluster key and channel under one prefix. */
export interface RedisKeys {
  readonly prefix: string;
  /** The keys of one session (lease, epoch counter, auth state). */
  session(sessionId: string): SessionKeys;
  /** Hash session id → `StoredSession` JSON: the cluster's registry of sessions. */
  readonly sessions: string;
  /** Sorted set daemon id → when its membership expires (Redis time, ms). */
  readonly daemons: string;
  /** Pub/sub channel of ownership news (a daemon released sessions, a daemon joined). */
  readonly ownershipChannel: string;
}

const PREFIX_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Builds the key names under `prefix`; a prefix with other characters than `[A-Za-z0-9_.:-]` is refused. */
export function createRedisKeys(prefix: string = DEFAULT_REDIS_KEY_PREFIX): RedisKeys {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new TypeError(`invalid Redis key prefix "${prefix}": 1 to 64 characters of [A-Za-z0-9_.:-]`);
  }
  return {
    prefix,
    session(sessionId) {
      const base = `${prefix}session:{${sessionId}}:`;
      return { lease: `${base}lease`, epoch: `${base}epoch`, creds: `${base}creds`, keys: `${base}keys` };
    },
    sessions: `${prefix}sessions`,
    daemons: `${prefix}daemons`,
    ownershipChannel: `${prefix}ownership`,
  };
}
