/**
 * One daemon's membership of the cluster (issue #17), owned by `createDaemon` when
 * `STICKERBOT_REDIS_URL` is set: the Redis connection, the journal on Redis Streams, the
 * registry of sessions in Redis (with the synchronous view the session registry reads), the
 * leased auth store, the session leases and the balancer that divides the sessions.
 *
 * `createClusterNode` connects and loads (the journal's partition count is checked, every
 * session record read), so the daemon can compose its registry over it; `start` joins the
 * balancer with the registry's handlers: a session starts here once its lease is taken (its
 * auth state opened from Redis at that epoch and attached to the leased view first) and
 * stops when the lease is lost, given up or handed over (its last status written while the
 * fence still lets it, then its auth detached). `stop` hands every session over at once.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { StoredSession } from '../storage/index.js';
import { createDaemonMembership, membershipTtlMs } from './daemon-membership.js';
import { createLeasedAuthStore, createRedisAuthStore, type LeasedAuthStore } from './redis-auth-store.js';
import { ClusterError, createRedisConnection } from './redis-connection.js';
import { openRedisJournal, type RedisJournal } from './redis-journal.js';
import { createRedisKeys, type RedisKeys } from './redis-keys.js';
import { createRedisSessionStore, type RedisSessionStore } from './redis-session-store.js';
import { createRedisSessionView, type RedisSessionView } from './redis-session-view.js';
import { createSessionBalancer, type SessionBalancer, type SessionStopReason } from './session-balancer.js';
import { createSessionLeases, type LeaseTimings, type SessionLeases } from './session-lease.js';

/** Options of {@link createClusterNode}. */
export interface ClusterNodeOptions {
  /** `redis://` or `rediss://` URL (`STICKERBOT_REDIS_URL`). */
  redisUrl: string;
  /** This daemon's id, unique in the cluster (`STICKERBOT_DAEMON_ID`); it is the owner named in the leases. */
  daemonId: string;
  /** Lease timings (`leaseMs` from `STICKERBOT_LEASE_MS`, default 30 s; the rest derived from it). */
  timings?: Partial<LeaseTimings>;
  /** Key prefix (default `stickerbot:`). */
  prefix?: string;
  /** Journal partitions (default 16; must match the cluster's). */
  partitions?: number;
  logger: Logger;
  /** Monotonic clock of the leases (default `performance.now`); a test moves it to act out a paused process. */
  monotonicNow?: () => number;
}

/** What the node calls on the daemon's session registry. */
export interface ClusterSessionHandlers {
  /** Starts a session whose lease this daemon took at `epoch` (its auth is attached already); `stored` is Redis' record. */
  startSession(sessionId: string, epoch: number, stored: StoredSession | undefined): Promise<void>;
  /** Stops a session's socket (lease lost, given up or handed over); resolves once it is closed. */
  stopSession(sessionId: string, reason: SessionStopReason): Promise<void>;
  /** Whether a session may move now. */
  isIdle(sessionId: string): boolean;
}

/** One daemon's part of the cluster; see the module comment. */
export interface ClusterNode {
  /** This daemon's id (the owner in its leases, its name in the membership). */
  readonly daemonId: string;
  /** The node's Redis connection (commands only; never used for blocking reads or subscriptions). */
  readonly redis: Redis;
  /** Every key name under the node's prefix. */
  readonly keys: RedisKeys;
  /** The journal on Redis Streams the sessions append to. */
  readonly journal: RedisJournal;
  /** The cluster's registry of sessions in Redis (asynchronous). */
  readonly sessionStore: RedisSessionStore;
  /** The synchronous view of it the session registry works over. */
  readonly sessions: RedisSessionView;
  /** The synchronous auth store over the sessions this daemon holds. */
  readonly auth: LeasedAuthStore;
  /** The leases this daemon holds. */
  readonly leases: SessionLeases;
  /** The daemon id holding the session's lease in Redis now, or `undefined` when nobody does. */
  ownerOf(sessionId: string): Promise<string | undefined>;
  /** Whether this daemon holds the session's lease now, by its local deadline (no Redis round trip). */
  owns(sessionId: string): boolean;
  /** The epoch of the session's lease while this daemon holds it, else `undefined`. */
  epochOf(sessionId: string): number | undefined;
  /** Takes a free session's lease and starts it here now; false when another daemon holds it (or the node is not started). */
  claim(sessionId: string): Promise<boolean>;
  /** Sessions running here (started under a lease, not stopped). */
  owned(): string[];
  /** The live daemons of the cluster, as the membership holds them now (a Redis round trip). */
  liveDaemons(): Promise<string[]>;
  /** Whether the cluster's registry of sessions has this id (read from Redis, kept in the view). */
  known(sessionId: string): Promise<boolean>;
  /** Joins the balancer with the registry's handlers: takes this daemon's share of the sessions. */
  start(handlers: ClusterSessionHandlers): Promise<void>;
  /** Hands every session over (stops it, releases its lease), leaves the cluster, closes the connections. */
  stop(): Promise<void>;
  /** Stops renewing and balancing without releasing anything: the leases run out (a hung daemon, for tests). */
  halt(): void;
}

/** Connects to Redis, opens the journal and loads the registry of sessions; see {@link ClusterNode}. */
export async function createClusterNode(options: ClusterNodeOptions): Promise<ClusterNode> {
  const { daemonId, logger } = options;
  const log = logger.child({ module: 'cluster', daemonId });
  const name = `stickerbot-daemon:${daemonId}`;
  const keys = createRedisKeys(options.prefix);
  const redis = createRedisConnection(options.redisUrl, { name });
  const leases = createSessionLeases({
    redis,
    keys,
    owner: daemonId,
    ...(options.timings ? { timings: options.timings } : {}),
    logger,
    ...(options.monotonicNow ? { now: options.monotonicNow } : {}),
  });
  const sessionStore = createRedisSessionStore(redis, keys);
  const sessions = createRedisSessionView({ store: sessionStore, epochOf: (id) => leases.epochOf(id), logger });
  const authStore = createRedisAuthStore(redis, keys);
  const auth = createLeasedAuthStore();
  let journal: RedisJournal;
  try {
    journal = await openRedisJournal({ redis, prefix: keys.prefix, ...(options.partitions === undefined ? {} : { partitions: options.partitions }) });
    await sessions.refresh();
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  const membership = createDaemonMembership({ redis, keys, daemonId, ttlMs: membershipTtlMs(leases.timings.renewEveryMs, leases.timings.leaseMs) });
  let balancer: SessionBalancer | undefined;
  let stopped = false;

  const node: ClusterNode = {
    daemonId,
    redis,
    keys,
    journal,
    sessionStore,
    sessions,
    auth,
    leases,
    ownerOf: async (sessionId) => (await leases.holderOf(sessionId))?.owner,
    owns: (sessionId) => leases.epochOf(sessionId) !== undefined,
    epochOf: (sessionId) => leases.epochOf(sessionId),
    claim: (sessionId) => balancer?.claim(sessionId) ?? Promise.resolve(false),
    owned: () => balancer?.owned() ?? [],
    liveDaemons: () => membership.live(),
    known: async (sessionId) => (await sessions.fetch(sessionId)) !== undefined,

    async start(handlers) {
      if (balancer || stopped) throw new ClusterError('CLUSTER_CONFIG', `the cluster node ${daemonId} was started already`);
      // No connection name: ioredis sends CLIENT SETNAME on every (re)connect, which a connection
      // in subscriber mode refuses, and the error closes it (losing the subscription).
      const subscriber = createRedisConnection(options.redisUrl);
      const tickMs = leases.timings.renewEveryMs;
      balancer = createSessionBalancer({
        leases,
        membership,
        keys,
        redis,
        subscriber,
        tickMs,
        logger,
        sessions: async () => (await sessions.refresh()).filter((s) => s.autostart).map((s) => s.id),
        isIdle: (sessionId) => handlers.isIdle(sessionId),
        async startSession(sessionId, epoch) {
          auth.attach(await authStore.open(sessionId, epoch));
          try {
            await handlers.startSession(sessionId, epoch, await sessions.fetch(sessionId));
          } catch (error) {
            auth.detach(sessionId);
            throw error;
          }
        },
        async stopSession(sessionId, reason) {
          try {
            await handlers.stopSession(sessionId, reason);
          } finally {
            // The last status is written before the balancer releases the lease (the fence still lets it).
            await sessions.flush();
            auth.detach(sessionId);
          }
        },
      });
      await balancer.start();
      log.info({ leaseMs: leases.timings.leaseMs, owned: balancer.owned() }, 'joined the cluster');
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      await balancer?.stop();
      await sessions.flush();
      await redis.quit().catch(() => redis.disconnect());
      log.info('left the cluster');
    },

    halt() {
      balancer?.halt();
    },
  };
  return node;
}
