/**
 * How the consumers of one group divide the partitions: each partition is read by at most one
 * consumer at a time, the holder of its lease (`journal:lease:<group>:<p>`, value `<consumer>
 * <epoch>`, with an expiry). A consumer heartbeats into `journal:consumers:<group>` (score:
 * when it expires, in Redis time, so hosts' clocks do not matter), renews its leases, and
 * computes its fair share of the live consumers; one over its share hands partitions back,
 * one under it takes free ones. A partition moves only after its lease was released or
 * expired, and every read of a partition is fenced by its lease in the same script
 * (`journal-consumer-scripts.ts`): a consumer paused past its lease reads nothing more.
 */

/** How many partitions `self` should read: the live consumers sorted, the first `P mod n` get one more. */
export function fairShare(live: readonly string[], partitions: number, self: string): number {
  const sorted = [...new Set(live)].sort();
  const index = sorted.indexOf(self);
  if (index < 0) return 0;
  const base = Math.floor(partitions / sorted.length);
  return base + (index < partitions % sorted.length ? 1 : 0);
}

/**
 * The order in which `consumerId` tries free partitions: every partition once, starting at a
 * point its id hashes to, so consumers starting together do not all race for partition 0.
 */
export function preferenceOrder(consumerId: string, partitions: number): number[] {
  let hash = 0x811c9dc5;
  for (let i = 0; i < consumerId.length; i += 1) {
    hash ^= consumerId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  const start = (hash >>> 0) % partitions;
  return Array.from({ length: partitions }, (_, i) => (start + i) % partitions);
}

/**
 * Heartbeat, renewal and the view of every lease, in one round trip. KEYS: the consumer set,
 * then the lease of each partition 0..P-1. ARGV: consumer id, lease time (ms), then pairs
 * (partition, expected lease value) of the leases this consumer holds; each one still holding
 * that value gets its expiry renewed. Returns { live consumers, lease value of each partition
 * ('' when free) }.
 */
export const PARTITION_TICK_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
local live = redis.call('ZRANGE', KEYS[1], 0, -1)
for i = 3, #ARGV, 2 do
  local key = KEYS[tonumber(ARGV[i]) + 2]
  if redis.call('GET', key) == ARGV[i + 1] then redis.call('PEXPIRE', key, ttl) end
end
local owners = {}
for i = 2, #KEYS do owners[i - 1] = redis.call('GET', KEYS[i]) or '' end
return { live, owners }
`;

/** Takes a free lease. KEYS: the lease, its epoch counter. ARGV: consumer id, lease time (ms). Returns the new epoch, or 0 when it is held. */
export const PARTITION_ACQUIRE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. epoch, 'PX', tonumber(ARGV[2]))
return epoch
`;

/** Gives a lease back if it still holds this value. KEYS: the lease. ARGV: the value. Returns 1 when released. */
export const PARTITION_RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
