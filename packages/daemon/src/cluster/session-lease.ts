/**
 * Session leases with fencing epochs (issue #17, "Session ownership"). A daemon owns a session
 * only while it holds the session's lease, a Redis hash `{ owner, epoch }` with an expiry (the
 * generic lease of lease-scripts.ts, which a journal partition's lease shares):
 *
 * - **acquire** succeeds only when nobody holds the lease; the epoch comes from an INCR
 *   counter that never expires, so every acquisition of a session gets a larger epoch than
 *   all before it (AOF keeps the counter across a Redis restart);
 * - **renew** (every third of the lease) extends the expiry only if owner and epoch still
 *   match; **release** deletes the lease only if they match;
 * - the holder keeps a **local deadline**: the start of its last successful renew (or of the
 *   acquire) plus the lease time minus a margin. Redis counts the expiry from when it ran
 *   the command, which is later, so the local deadline passes first: the daemon reports
 *   `lost` and stops the socket before another daemon can take the lease;
 * - a renew that finds another owner or epoch reports `lost` at once;
 * - every auth write carries the epoch and is refused by Redis if the lease holds another
 *   (redis-auth-store.ts): a daemon paused past its deadline cannot write when it resumes.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { leaseScripts } from './lease-scripts.js';
import { ClusterError, toClusterError } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

/** Lease timings (ms). */
export interface LeaseTimings {
  /** How long a lease lives without a renew (default 30 s). */
  leaseMs: number;
  /** How often held leases are renewed (default a third of `leaseMs`). */
  renewEveryMs: number;
  /** How much earlier than Redis the holder gives a lease up (default a tenth of `leaseMs`, at most 2 s). */
  marginMs: number;
}

/** Default lease time: 30 s. */
export const DEFAULT_LEASE_MS = 30_000;

/** Completes partial timings with the defaults and checks them (a `CLUSTER_CONFIG` error otherwise). */
export function leaseTimings(partial: Partial<LeaseTimings> = {}): LeaseTimings {
  const leaseMs = partial.leaseMs ?? DEFAULT_LEASE_MS;
  const timings = {
    leaseMs,
    renewEveryMs: partial.renewEveryMs ?? Math.floor(leaseMs / 3),
    marginMs: partial.marginMs ?? Math.min(2_000, Math.floor(leaseMs / 10)),
  };
  if (!(timings.leaseMs >= 100) || !(timings.renewEveryMs > 0) || !(timings.marginMs >= 0) || timings.renewEveryMs + timings.marginMs >= timings.leaseMs) {
    throw new ClusterError('CLUSTER_CONFIG', `bad lease timings ${JSON.stringify(timings)}: need leaseMs ≥ 100 and renewEveryMs + marginMs < leaseMs`);
  }
  return timings;
}

/** Why a held lease was lost. */
export type LeaseLossReason =
  /** A renew found another owner or epoch (the lease expired and was taken). */
  | 'taken'
  /** The local deadline passed without a successful renew (Redis unreachable, or the process was paused). */
  | 'expired';

/** Who holds a session's lease. */
export interface LeaseHolder {
  owner: string;
  epoch: number;
}

/** Options of {@link createSessionLeases}. */
export interface SessionLeasesOptions {
  redis: Redis;
  keys: RedisKeys;
  /** This holder's id, unique in the cluster (a daemon id plus a random part). */
  owner: string;
  timings?: Partial<LeaseTimings>;
  logger?: Logger;
  /** Monotonic clock in ms (default `performance.now`). */
  now?: () => number;
}

/** The leases one daemon holds. */
export interface SessionLeases {
  readonly owner: string;
  readonly timings: LeaseTimings;
  /** Takes the session's lease if nobody holds it: its new epoch, or `undefined` when held by another. Already held here: the current epoch. */
  acquire(sessionId: string): Promise<number | undefined>;
  /** Gives the lease up (compare and delete). Whether Redis still had it as ours. */
  release(sessionId: string): Promise<boolean>;
  /** The epoch of a lease held now (before its local deadline), else `undefined`. */
  epochOf(sessionId: string): number | undefined;
  /** Sessions whose lease is held now. */
  held(): string[];
  /** Who holds the session's lease in Redis (any daemon), or `undefined`. */
  holderOf(sessionId: string): Promise<LeaseHolder | undefined>;
  /** Calls `listener` when a held lease is lost (once per loss); returns what unsubscribes. */
  onLost(listener: (sessionId: string, reason: LeaseLossReason) => void): () => void;
  /** Stops renewing without releasing (a hung daemon, for tests): the leases run out. */
  halt(): void;
  /** Releases every held lease and stops renewing. */
  close(): Promise<void>;
}

interface Held {
  epoch: number;
  deadline: number;
  timer: NodeJS.Timeout | undefined;
}

/** Creates the lease holder of one daemon; renewing starts with the first acquire. */
export function createSessionLeases(options: SessionLeasesOptions): SessionLeases {
  const { redis, keys, owner } = options;
  const timings = leaseTimings(options.timings);
  const now = options.now ?? (() => performance.now());
  const log = options.logger?.child({ module: 'session-lease' });
  const scripts = leaseScripts(redis);
  const held = new Map<string, Held>();
  const listeners = new Set<(sessionId: string, reason: LeaseLossReason) => void>();
  let renewTimer: NodeJS.Timeout | undefined;
  let halted = false;

  function lose(sessionId: string, lease: Held, reason: LeaseLossReason): void {
    if (held.get(sessionId) !== lease) return;
    held.delete(sessionId);
    if (lease.timer) clearTimeout(lease.timer);
    log?.warn({ sessionId, epoch: lease.epoch, reason }, 'session lease lost');
    for (const listener of [...listeners]) {
      try {
        listener(sessionId, reason);
      } catch (err) {
        log?.error({ err, sessionId }, 'a lease-lost listener threw');
      }
    }
  }

  /** Sets the local deadline; its timer reports the loss if no renew moves it first. */
  function extend(sessionId: string, lease: Held, startedAt: number): void {
    lease.deadline = startedAt + timings.leaseMs - timings.marginMs;
    if (lease.timer) clearTimeout(lease.timer);
    lease.timer = setTimeout(() => lose(sessionId, lease, 'expired'), Math.max(0, lease.deadline - now()));
    lease.timer.unref?.();
  }

  async function renew(sessionId: string, lease: Held): Promise<void> {
    const startedAt = now();
    // A process resumed after a pause: the deadline is already gone, whatever Redis says.
    if (startedAt >= lease.deadline) return lose(sessionId, lease, 'expired');
    let renewed: boolean;
    try {
      renewed = await scripts.renew(keys.session(sessionId).lease, owner, lease.epoch, timings.leaseMs);
    } catch (err) {
      log?.warn({ err, sessionId }, 'could not renew a session lease; retrying until its deadline');
      return;
    }
    if (!renewed) return lose(sessionId, lease, 'taken');
    if (held.get(sessionId) === lease) {
      extend(sessionId, lease, startedAt);
      return;
    }
    // Given up locally while the renew was under way: hand it back so nobody waits for it to expire.
    await scripts.release(keys.session(sessionId).lease, owner, lease.epoch).catch(() => false);
  }

  function renewAll(): void {
    for (const [sessionId, lease] of [...held]) void renew(sessionId, lease);
  }

  function ensureRenewing(): void {
    if (renewTimer || halted) return;
    renewTimer = setInterval(renewAll, timings.renewEveryMs);
    renewTimer.unref?.();
  }

  const leases: SessionLeases = {
    owner,
    timings,

    async acquire(sessionId) {
      const current = held.get(sessionId);
      if (current && now() < current.deadline) return current.epoch;
      if (halted) throw new ClusterError('LEASE_NOT_HELD', `the lease holder ${owner} is halted`);
      const startedAt = now();
      const epoch = await scripts.acquire(keys.session(sessionId).lease, keys.session(sessionId).epoch, owner, timings.leaseMs);
      if (epoch === undefined) return undefined;
      const lease: Held = { epoch, deadline: 0, timer: undefined };
      held.set(sessionId, lease);
      extend(sessionId, lease, startedAt);
      ensureRenewing();
      log?.info({ sessionId, epoch }, 'session lease acquired');
      return epoch;
    },

    async release(sessionId) {
      const lease = held.get(sessionId);
      if (!lease) return false;
      held.delete(sessionId);
      if (lease.timer) clearTimeout(lease.timer);
      const released = await scripts.release(keys.session(sessionId).lease, owner, lease.epoch);
      log?.info({ sessionId, epoch: lease.epoch }, 'session lease released');
      return released;
    },

    epochOf(sessionId) {
      const lease = held.get(sessionId);
      return lease && now() < lease.deadline ? lease.epoch : undefined;
    },

    held: () => [...held.keys()].sort(),

    async holderOf(sessionId) {
      let fields: (string | null)[];
      try {
        fields = await redis.hmget(keys.session(sessionId).lease, 'owner', 'epoch');
      } catch (error) {
        throw toClusterError(error, `could not read the lease of session ${sessionId}`);
      }
      const [holder, epoch] = fields;
      return holder && epoch ? { owner: holder, epoch: Number(epoch) } : undefined;
    },

    onLost(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    halt() {
      halted = true;
      if (renewTimer) clearInterval(renewTimer);
      renewTimer = undefined;
    },

    async close() {
      if (renewTimer) clearInterval(renewTimer);
      renewTimer = undefined;
      halted = true;
      const ids = [...held.keys()];
      await Promise.all(ids.map((id) => leases.release(id).catch((err: unknown) => log?.warn({ err, sessionId: id }, 'could not release a session lease'))));
    },
  };
  return leases;
}
