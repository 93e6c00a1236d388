/**
 * Which daemons are alive (issue #17): a sorted set of daemon ids scored by when each one's
 * membership expires, on Redis' clock (`TIME` inside the script), so the daemons' own clocks
 * never have to agree. A heartbeat renews this daemon, drops the expired ones and answers the
 * live list in one script. A daemon that stops cleanly leaves at once; a dead one drops out
 * after the membership time, which is shorter than a lease so that the survivors' fair share
 * already counts without it when its leases run out.
 */
import type { Redis } from 'ioredis';
import { LEASE_LUA_FUNCTIONS } from './lease-scripts.js';
import { defineScript, toClusterError } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

/**
 * How long a heartbeat keeps a daemon a member, for daemons that heartbeat every `tickMs`:
 * 2.5 ticks (25 s with the default 10 s tick), and always less than the lease, so a dead
 * daemon has left the membership by the time its leases run out.
 */
export function membershipTtlMs(tickMs: number, leaseMs: number): number {
  return Math.max(1, Math.min(Math.floor(tickMs * 2.5), leaseMs - 1));
}

/** Options of {@link createDaemonMembership}. */
export interface DaemonMembershipOptions {
  redis: Redis;
  keys: RedisKeys;
  /** This daemon's id, unique in the cluster. */
  daemonId: string;
  /** How long a heartbeat keeps the daemon a member (ms; see {@link membershipTtlMs}). */
  ttlMs: number;
}

/** This daemon's membership. */
export interface DaemonMembership {
  readonly daemonId: string;
  /** Renews this daemon's membership; resolves with every live daemon id, sorted. */
  heartbeat(): Promise<string[]>;
  /** The live daemons, sorted, without renewing. */
  live(): Promise<string[]>;
  /**
   * Renews this daemon's membership like {@link heartbeat}; resolves with every live daemon
   * and how long (ms, on Redis' clock) its membership lasts without another heartbeat, so a
   * caller can act the moment a silent daemon drops out.
   */
  heartbeatUntil(): Promise<Map<string, number>>;
  /** Leaves the cluster now. */
  leave(): Promise<void>;
}

// KEYS[1]: the sorted set. ARGV: daemon id (empty: read only), ttl ms.
const HEARTBEAT = `${LEASE_LUA_FUNCTIONS}
return heartbeat(KEYS[1], ARGV[1], ARGV[2])`;

// The same, answering member, remaining ms, member, remaining ms…
const HEARTBEAT_UNTIL = `${LEASE_LUA_FUNCTIONS}
heartbeat(KEYS[1], ARGV[1], ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local out = {}
local members = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #members, 2 do
  out[#out + 1] = members[i]
  out[#out + 1] = tostring(tonumber(members[i + 1]) - now)
end
return out`;

/** Creates the membership of one daemon (it is no member until its first heartbeat). */
export function createDaemonMembership(options: DaemonMembershipOptions): DaemonMembership {
  const { redis, keys, daemonId, ttlMs } = options;
  const script = defineScript<string[]>(redis, 'stickerbotHeartbeat', 1, HEARTBEAT);
  const until = defineScript<string[]>(redis, 'stickerbotHeartbeatUntil', 1, HEARTBEAT_UNTIL);
  return {
    daemonId,
    heartbeat: async () => (await script([keys.daemons], [daemonId, ttlMs])).sort(),
    live: async () => (await script([keys.daemons], ['', 0])).sort(),
    async heartbeatUntil() {
      const reply = await until([keys.daemons], [daemonId, ttlMs]);
      const remaining = new Map<string, number>();
      for (let i = 0; i + 1 < reply.length; i += 2) remaining.set(reply[i] as string, Number(reply[i + 1]));
      return remaining;
    },
    async leave() {
      try {
        await redis.zrem(keys.daemons, daemonId);
      } catch (error) {
        throw toClusterError(error, `daemon ${daemonId} could not leave the cluster`);
      }
    },
  };
}
