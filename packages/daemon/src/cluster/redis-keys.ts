/**
 * The key layout of cluster mode in Redis, in one place (README, "Cluster mode"). Every key
 * starts with the prefix (default `stickerbot:`), so several deployments can share one Redis.
 * A session's keys carry the session id as a hash tag (`{id}`): the Lua scripts that fence an
 * auth write read the lease and write the auth keys in one call, which Redis Cluster allows
 * only for keys of one slot.
 *
 * The journal's keys (`journal:…`) carry no hash tag: its scripts touch the sequence counter,
 * the message index and partition streams together, so they must live on one Redis (a single
 * server or a primary with replicas, not Redis Cluster, where they would need one slot for the
 * whole journal).
 */

/**
 * A daemon id (`STICKERBOT_DAEMON_ID`): it names the daemon's inbox key and, with `:` and a
 * socket id (20 characters), its worker connections' consumer ids, which must stay within 128.
 */
export const DAEMON_ID = /^[A-Za-z0-9._:-]{1,100}$/;

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

/** The keys of the journal on Redis Streams (redis-journal.ts) and its consumer groups. */
export interface JournalKeys {
  /** Integer: the last `seq` handed out (INCR); never trimmed, so `seq` only grows. */
  readonly seq: string;
  /** Hash: the journal's fixed settings (`partitions`), checked at open. */
  readonly meta: string;
  /** Hash `<sessionId>\0<messageId>` → `<partition>:<seq>`: where a raw message is. */
  readonly messages: string;
  /** Set of consumer group names (every group has a Redis consumer group on every partition). */
  readonly groups: string;
  /** Stream of partition `p`: entry ids are `<seq>-0`. */
  stream(partition: number): string;
  /** Hash `{ owner, epoch }` with an expiry (lease-scripts.ts): which consumer reads partition `p` for `group`. */
  lease(group: string, partition: number): string;
  /** Integer: the last lease epoch handed out for (group, partition). */
  epoch(group: string, partition: number): string;
  /** Sorted set consumer id → when its heartbeat expires (Redis time, ms). */
  consumers(group: string): string;
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
  /** The journal's keys (`journal:p:<n>`, `journal:seq`, …). */
  readonly journal: JournalKeys;
  /**
   * Hash of one command id (redis-command-log.ts): a claim (`state` `running`, its holder) while
   * a daemon runs it, then its recorded outcome (`state` `done`), expiring with the idempotency window.
   */
  command(commandId: string): string;
  /** List of one daemon's forwarded command requests and their replies (command-forwarding.ts). */
  inbox(daemonId: string): string;
  /** String with an expiry: a forwarded request nobody took yet; whoever deletes it (owner or requester) decides its fate. */
  forwardClaim(requestId: string): string;
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
    journal: journalKeys(`${prefix}journal:`),
    command: (commandId) => `${prefix}command:{${commandId}}`,
    inbox: (daemonId) => `${prefix}daemon:{${daemonId}}:inbox`,
    forwardClaim: (requestId) => `${prefix}forward:${requestId}`,
  };
}

function journalKeys(base: string): JournalKeys {
  return {
    seq: `${base}seq`,
    meta: `${base}meta`,
    messages: `${base}messages`,
    groups: `${base}groups`,
    stream: (partition) => `${base}p:${partition}`,
    lease: (group, partition) => `${base}lease:${group}:${partition}`,
    epoch: (group, partition) => `${base}epoch:${group}:${partition}`,
    consumers: (group) => `${base}consumers:${group}`,
  };
}
