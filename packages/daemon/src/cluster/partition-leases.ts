/**
 * How the consumers of one group divide the partitions: each partition is read by at most one
 * consumer at a time, the holder of its lease (`journal:lease:<group>:<p>`, the generic lease
 * of lease-scripts.ts: a hash `{ owner, epoch }` with an expiry, seen as `<consumer> <epoch>`).
 * A consumer heartbeats into `journal:consumers:<group>` (score: when it expires, in Redis
 * time, so hosts' clocks do not matter), renews its leases, and computes its fair share of the live consumers; one over its share hands partitions back,
 * one under it takes free ones. A partition moves only after its lease was released or
 * expired, and every read of a partition is fenced by its lease in the same script
 * (`journal-consumer-scripts.ts`): a consumer paused past its lease reads nothing more.
 */
import { LEASE_LUA_FUNCTIONS } from './lease-scripts.js';

/**
 * How many partitions `self` should read: the live consumers sorted, the first `P mod n` get
 * one more. Not the sessions' share (session-balancer.ts, ceil(sessions / daemons) for every
 * daemon): a partition can always be handed back once its entries are acknowledged, so the
 * shares add up exactly; a busy session cannot move, so every daemon may hold up to the
 * ceiling and a surplus waits until one is idle.
 */
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
 * (partition, expected lease value `<consumer> <epoch>`) of the leases this consumer holds;
 * each one still holding that value gets its expiry renewed (the generic lease's renew,
 * batched: one round trip renews all of them). Returns { live consumers, lease value of each
 * partition ('' when free) }. Acquire and release are the generic lease's (lease-scripts.ts).
 */
export const PARTITION_TICK_LUA = `${LEASE_LUA_FUNCTIONS}
local ttl = tonumber(ARGV[2])
local live = heartbeat(KEYS[1], ARGV[1], ttl)
for i = 3, #ARGV, 2 do
  local key = KEYS[tonumber(ARGV[i]) + 2]
  if lease_value(key) == ARGV[i + 1] then redis.call('PEXPIRE', key, ttl) end
end
local owners = {}
for i = 2, #KEYS do owners[i - 1] = lease_value(KEYS[i]) end
return { live, owners }
`;
