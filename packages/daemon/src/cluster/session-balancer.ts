/**
 * Divides the cluster's sessions among the live daemons (issue #17). Each daemon runs this
 * loop; there is no coordinator, only the leases (session-lease.ts) and the membership
 * (daemon-membership.ts). On every tick a daemon:
 *
 * 1. heartbeats and reads the live daemons; its fair share is ceil(sessions / live daemons);
 * 2. below its share, takes free sessions (nobody holds their lease) in random order until
 *    it reaches its share: acquire the lease, then start the session at that epoch;
 * 3. above its share, gives up idle sessions only (`isIdle`): stop the socket first, then
 *    release the lease, so the next owner never overlaps with it;
 * 4. stops and releases sessions that left the cluster's list.
 *
 * A lease lost (renew refused, or its local deadline passed) stops that session at once.
 * A graceful stop stops every session, releases its leases, leaves the membership and
 * publishes on the ownership channel, so the others tick at once instead of waiting for the
 * leases to run out; a daemon that joins publishes too, so the others give up their surplus
 * at once.
 *
 * A dead daemon publishes nothing, and its leases and membership run out between two ticks.
 * So a round also notes when the next of those runs out (the shortest PTTL of a lease held
 * by another daemon, the shortest remaining membership of another daemon) and, when that is
 * before the next tick, runs another round a few ms after it: a dead daemon's sessions are
 * taken the moment both its lease and its membership are gone, within the lease time of its
 * death. Every survivor wakes at that moment; each takes only what its share allows, and the
 * acquire is atomic, so for each session one wins and the others see it held and try the next.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DaemonMembership } from './daemon-membership.js';
import { toClusterError } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import type { SessionLeases } from './session-lease.js';

/** How long after a lease's or membership's expiry the extra round runs (Redis' and our timers differ by a few ms). */
const WAKE_SLACK_MS = 5;

/** Why the balancer stops a session. */
export type SessionStopReason =
  /** Given up to another daemon below its share. */
  | 'rebalance'
  /** Its lease was lost: stop before another daemon takes it. */
  | 'lost'
  /** This daemon stops. */
  | 'shutdown'
  /** The session left the cluster's list. */
  | 'removed';

/** Options of {@link createSessionBalancer}. */
export interface SessionBalancerOptions {
  leases: SessionLeases;
  membership: DaemonMembership;
  keys: RedisKeys;
  /** For reading leases and publishing ownership news. */
  redis: Redis;
  /** A connection of its own for the ownership channel (subscriber mode); the balancer closes it. */
  subscriber: Redis;
  /** Every session the cluster runs (the registry's sessions marked for autostart). */
  sessions: () => Promise<readonly string[]>;
  /** Whether a session may move now (no message or send under way). */
  isIdle: (sessionId: string) => boolean;
  /** Starts a session whose lease this daemon now holds at `epoch`; a throw releases the lease. */
  startSession: (sessionId: string, epoch: number) => Promise<void>;
  /** Stops a session's socket; resolves once it is closed. */
  stopSession: (sessionId: string, reason: SessionStopReason) => Promise<void>;
  /** How often it ticks (default the leases' renew period). */
  tickMs?: number;
  logger?: Logger;
  /** Uniform random in [0, 1) (the order free sessions are tried in). */
  random?: () => number;
}

/** One daemon's balancer loop. */
export interface SessionBalancer {
  /** Joins (first heartbeat), subscribes to the ownership channel, tells the others, ticks now and on every period. */
  start(): Promise<void>;
  /** Runs one round now (rounds never overlap; a call during one runs another after it). */
  tick(): Promise<void>;
  /** Sessions started here and not stopped. */
  owned(): string[];
  /**
   * Takes a free session now, outside the rounds (a session just created or started on
   * this daemon): acquire its lease, start it. Whether it runs here now (false when another
   * daemon holds it, or this balancer stopped).
   */
  claim(sessionId: string): Promise<boolean>;
  /** Hands everything over: stops every session, releases the leases, leaves, tells the others. */
  stop(): Promise<void>;
  /** Stops ticking and renewing without releasing anything (a hung daemon, for tests). */
  halt(): void;
}

interface OwnershipNews {
  type: 'joined' | 'released';
  daemonId: string;
}

/** Creates the balancer of one daemon. */
export function createSessionBalancer(options: SessionBalancerOptions): SessionBalancer {
  const { leases, membership, keys, redis, subscriber } = options;
  const log = options.logger?.child({ module: 'session-balancer' });
  const tickMs = options.tickMs ?? leases.timings.renewEveryMs;
  const random = options.random ?? Math.random;
  const owned = new Set<string>();
  // Sessions being taken (a claim and a round may try the same one).
  const taking = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  // The extra round when a lease or a membership runs out before the next tick.
  let wake: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  leases.onLost((sessionId) => {
    if (!owned.delete(sessionId)) return;
    options.stopSession(sessionId, 'lost').catch((err: unknown) => log?.error({ err, sessionId }, 'could not stop a session whose lease was lost'));
  });

  async function publish(type: OwnershipNews['type']): Promise<void> {
    const news: OwnershipNews = { type, daemonId: membership.daemonId };
    await redis.publish(keys.ownershipChannel, JSON.stringify(news)).catch((err: unknown) => log?.warn({ err }, 'could not publish ownership news'));
  }

  async function giveUp(sessionId: string, reason: SessionStopReason): Promise<void> {
    owned.delete(sessionId);
    try {
      await options.stopSession(sessionId, reason);
    } finally {
      await leases.release(sessionId).catch((err: unknown) => log?.warn({ err, sessionId }, 'could not release a session lease; it runs out'));
    }
  }

  async function take(sessionId: string): Promise<boolean> {
    if (owned.has(sessionId) || taking.has(sessionId)) return false;
    taking.add(sessionId);
    try {
      return await takeNow(sessionId);
    } finally {
      taking.delete(sessionId);
    }
  }

  async function takeNow(sessionId: string): Promise<boolean> {
    const epoch = await leases.acquire(sessionId);
    if (epoch === undefined) return false;
    try {
      await options.startSession(sessionId, epoch);
    } catch (err) {
      log?.error({ err, sessionId, epoch }, 'could not start a session after taking its lease; releasing it');
      await leases.release(sessionId).catch(() => false);
      return false;
    }
    // Lost while starting: the loss listener ran before it was owned.
    if (leases.epochOf(sessionId) !== epoch) {
      await options.stopSession(sessionId, 'lost').catch(() => undefined);
      return false;
    }
    owned.add(sessionId);
    return true;
  }

  /** Each candidate's lease PTTL: -2 when nobody holds it (free). */
  async function leaseTtls(candidates: readonly string[]): Promise<Map<string, number>> {
    const ttls = new Map<string, number>();
    if (candidates.length === 0) return ttls;
    const pipeline = redis.pipeline();
    for (const id of candidates) pipeline.pttl(keys.session(id).lease);
    const replies = await pipeline.exec();
    candidates.forEach((id, i) => {
      const [err, ttl] = replies?.[i] ?? [new Error('no reply')];
      if (err === null && typeof ttl === 'number') ttls.set(id, ttl);
    });
    return ttls;
  }

  /** Runs a round `ms` from now (plus a few ms, so the key is gone on Redis' clock), unless the next tick comes first. */
  function wakeIn(ms: number): void {
    if (wake) clearTimeout(wake);
    wake = undefined;
    if (!Number.isFinite(ms) || ms >= tickMs || stopped) return;
    wake = setTimeout(() => {
      wake = undefined;
      void tick();
    }, Math.max(0, ms) + WAKE_SLACK_MS);
    wake.unref?.();
  }

  function shuffled<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }

  async function round(): Promise<void> {
    const members = await membership.heartbeatUntil();
    const live = [...members.keys()];
    const all = new Set(await options.sessions());
    // Every daemon may hold up to the ceiling, not partition-leases.ts' exact shares: only idle
    // sessions move, so a busy surplus must be allowed to wait without the others overfilling.
    const share = Math.ceil(all.size / Math.max(1, live.length));
    for (const id of [...owned]) if (!all.has(id)) await giveUp(id, 'removed');
    const ttls = await leaseTtls([...all].filter((id) => !owned.has(id)));
    if (owned.size > share) {
      // Stopped together: closing a socket can take seconds, and the heartbeat waits for this round.
      const released = [...owned].filter((id) => options.isIdle(id)).slice(0, owned.size - share);
      await Promise.all(released.map((id) => giveUp(id, 'rebalance')));
      if (released.length > 0) {
        log?.info({ released, share, live: live.length }, 'sessions given up to rebalance');
        await publish('released');
      }
    } else if (owned.size < share) {
      const taken: string[] = [];
      for (const id of shuffled([...ttls].filter(([, ttl]) => ttl === -2).map(([id]) => id))) {
        if (owned.size >= share || stopped) break;
        if (await take(id)) {
          taken.push(id);
          ttls.delete(id);
        }
      }
      if (taken.length > 0) log?.info({ taken, share, live: live.length }, 'sessions taken');
    }
    // The next lease or membership of another daemon to run out: a dead daemon's, unless renewed first.
    const expiries = [...ttls.values()].filter((ttl) => ttl >= 0);
    for (const [daemonId, remaining] of members) if (daemonId !== membership.daemonId) expiries.push(remaining);
    wakeIn(Math.min(...expiries));
  }

  function tick(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await round();
        } catch (err) {
          log?.warn({ err: toClusterError(err, 'balancer round failed') }, 'balancer round failed; retrying next tick');
        }
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== keys.ownershipChannel || stopped) return;
    try {
      const news = JSON.parse(message) as OwnershipNews;
      if (news.daemonId !== membership.daemonId) void tick();
    } catch {
      // Someone else's message on our channel: nothing to act on.
    }
  });

  return {
    async start() {
      await membership.heartbeat();
      await subscriber.subscribe(keys.ownershipChannel);
      await publish('joined');
      await tick();
      timer = setInterval(() => void tick(), tickMs);
      timer.unref?.();
    },
    tick,
    owned: () => [...owned].sort(),
    async claim(sessionId) {
      if (stopped) return false;
      if (owned.has(sessionId)) return true;
      return take(sessionId);
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      if (wake) clearTimeout(wake);
      timer = undefined;
      await running;
      const ids = [...owned];
      await Promise.all(ids.map((id) => giveUp(id, 'shutdown').catch((err: unknown) => log?.error({ err, sessionId: id }, 'could not hand a session over'))));
      await leases.close();
      await membership.leave().catch((err: unknown) => log?.warn({ err }, 'could not leave the cluster; the membership runs out'));
      await publish('released');
      log?.info({ released: ids }, 'sessions handed over');
      subscriber.disconnect();
    },
    halt() {
      stopped = true;
      if (timer) clearInterval(timer);
      if (wake) clearTimeout(wake);
      timer = undefined;
      leases.halt();
      subscriber.disconnect();
    },
  };
}
