/**
 * The journal's keys in Redis, under the cluster's key prefix (default `stickerbot:`).
 * Its own helper until the cluster's shared key layout (`redis-keys.ts`) takes these names
 * in; the names are the contract, not this module.
 *
 * The journal's scripts touch the sequence counter, the message index and partition streams
 * together, so its keys must live on one Redis (a single server or a primary with replicas,
 * not Redis Cluster: there they would need one hash tag, i.e. one slot for the whole journal).
 */

/** The default prefix of every cluster key. */
export const DEFAULT_JOURNAL_KEY_PREFIX = 'stickerbot:';

const PREFIX_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Names of the journal's keys under one prefix. */
export interface RedisJournalKeys {
  readonly prefix: string;
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
  /** String `<consumerId> <epoch>` with an expiry: who reads partition `p` for `group`. */
  lease(group: string, partition: number): string;
  /** Integer: the last lease epoch handed out for (group, partition). */
  epoch(group: string, partition: number): string;
  /** Sorted set consumer id → when its heartbeat expires (Redis time, ms). */
  consumers(group: string): string;
}

/** Builds the journal's key names; a prefix other than 1 to 64 of `[A-Za-z0-9_.:-]` is refused. */
export function createRedisJournalKeys(prefix: string = DEFAULT_JOURNAL_KEY_PREFIX): RedisJournalKeys {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new TypeError(`invalid Redis key prefix "${prefix}": 1 to 64 characters of [A-Za-z0-9_.:-]`);
  }
  const base = `${prefix}journal:`;
  return {
    prefix,
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
