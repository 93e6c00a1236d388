/**
 * The one owner+epoch lease of cluster mode, parameterised by key: a session's lease
 * (session-lease.ts) and a journal partition's (partition-assignment.ts) are both a hash
 * `{ owner, epoch }` with an expiry beside an INCR epoch counter that never expires, so every
 * acquisition gets a larger epoch than all before it. Renew and release compare owner and
 * epoch in Lua; scripts that are fenced by a lease (the auth writes, the journal's reads and
 * claims) read the same hash.
 *
 * The liveness sets (daemons, a group's consumers) share the heartbeat: a sorted set scored
 * by when each member expires, on Redis' clock (`TIME`), so hosts' clocks never have to agree.
 */
import type { Redis } from 'ioredis';
import { defineScript } from './redis-connection.js';

/**
 * Lua functions other scripts start with (Redis 7.0 has no shared functions for EVAL):
 * `lease_value(key)`, the lease as `<owner> <epoch>` or `''` when nobody holds it;
 * `heartbeat(key, member, ttl)`, which drops the expired members, renews `member` (if not
 * `''`) and returns the live ones.
 */
export const LEASE_LUA_FUNCTIONS = `
local function lease_value(key)
  local held = redis.call('HMGET', key, 'owner', 'epoch')
  if held[1] and held[2] then return held[1] .. ' ' .. held[2] end
  return ''
end
local function heartbeat(key, member, ttl)
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if member ~= '' then redis.call('ZADD', key, now + tonumber(ttl), member) end
  return redis.call('ZRANGE', key, 0, -1)
end
`;

// Acquire: only if free. KEYS: lease, epoch counter. ARGV: owner, lease ms. Returns the epoch, or 0 when held.
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local epoch = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'epoch', epoch)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return epoch`;

// Renew: only the same owner with the same epoch extends the expiry. KEYS: lease. ARGV: owner, epoch, lease ms.
const RENEW = `
local held = redis.call('HMGET', KEYS[1], 'owner', 'epoch')
if held[1] ~= ARGV[1] or held[2] ~= ARGV[2] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

// Release: compare and delete. KEYS: lease. ARGV: owner, epoch.
const RELEASE = `
local held = redis.call('HMGET', KEYS[1], 'owner', 'epoch')
if held[1] ~= ARGV[1] or held[2] ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
return 1`;

/** The lease scripts bound to one client. */
export interface LeaseScripts {
  /** Takes the lease if nobody holds it: its new epoch, or `undefined` when held. */
  acquire(lease: string, epochCounter: string, owner: string, leaseMs: number): Promise<number | undefined>;
  /** Extends the expiry if `owner` still holds the lease at `epoch`; whether it did. */
  renew(lease: string, owner: string, epoch: number, leaseMs: number): Promise<boolean>;
  /** Deletes the lease if `owner` still holds it at `epoch`; whether it did. */
  release(lease: string, owner: string, epoch: number): Promise<boolean>;
}

/** Binds the lease scripts to `redis` (errors are `ClusterError`s). */
export function leaseScripts(redis: Redis): LeaseScripts {
  const acquire = defineScript<number>(redis, 'stickerbotLeaseAcquire', 2, ACQUIRE);
  const renew = defineScript<number>(redis, 'stickerbotLeaseRenew', 1, RENEW);
  const release = defineScript<number>(redis, 'stickerbotLeaseRelease', 1, RELEASE);
  return {
    async acquire(lease, epochCounter, owner, leaseMs) {
      const epoch = await acquire([lease, epochCounter], [owner, leaseMs]);
      return epoch === 0 ? undefined : epoch;
    },
    renew: async (lease, owner, epoch, leaseMs) => (await renew([lease], [owner, epoch, leaseMs])) === 1,
    release: async (lease, owner, epoch) => (await release([lease], [owner, epoch])) === 1,
  };
}
