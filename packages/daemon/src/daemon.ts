/**
 * The daemon, composed: storage, session registry, command executor, HTTP server and
 * journal retention. `main.ts` builds one from the environment; tests build one with the
 * fake WhatsApp socket and a temp data folder.
 *
 * In cluster mode (`config.cluster`, `STICKERBOT_REDIS_URL`) a {@link ClusterNode} joins
 * them: the sessions journal to Redis Streams, read and write their auth state and records
 * in Redis, and run only where their lease is held (the node's balancer starts and stops
 * them instead of `registry.startAll`). The bridge delivers to workers from the Redis journal
 * (a consumer per worker connection), forwards commands for sessions held elsewhere to their
 * owner, shares the command log in Redis, and its dashboards share the Socket.IO Redis
 * Streams adapter (README, "Cluster mode").
 */
import { StickerbotError } from '@stickerbot/protocol';
import { ensurePrivateDataDir } from '@stickerbot/runtime';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { composeAuthenticators, createAdminTokenAuthenticator, type DashboardAuthenticator } from './bridge/auth.js';
import { createHttpServer, type HttpServer } from './http-server.js';
import { createCommandExecutor, type CommandExecutor } from './bridge/command-executor.js';
import { createJwtAuthenticator } from './dashboard/jwt.js';
import type { DaemonConfig } from './config.js';
import { createClusterAdapter, listClusterSessions } from './cluster/cluster-dashboards.js';
import { createClusterNode, type ClusterNode, type ClusterNodeOptions } from './cluster/cluster-node.js';
import { createCommandForwarding, type CommandForwarding } from './cluster/command-forwarding.js';
import { createConsumerDeliveryFactory } from './cluster/consumer-delivery.js';
import { createRedisCommandLog } from './cluster/redis-command-log.js';
import { createRedisJournalRetention } from './cluster/redis-journal-retention.js';
import { createSessionRegistry, type LocalSessionRegistry, type SessionRegistryDeps } from './sessions/registry.js';
import { loginHelp, type LoginHelp } from './login-help.js';
import { createMetrics, type CacheEntryCounts, type DaemonMetrics } from './metrics.js';
import { shouldPrintQr, silentQrPrinter, terminalQrPrinter, type QrOutput } from './qr-output.js';
import { createClusterFacts, createReadiness, type ClusterFactsCache } from './bridge/readiness.js';
import type { SessionRegistry } from './session-registry.js';
import { createJournalRetention, openStorage, type JournalRetention, type Storage } from './storage/index.js';
import { loadOrCreateToken, tokensEqual } from './token.js';
import type { SocketCacheRegistry } from './sessions/socket-caches.js';
import type { WaSocketFactory, WaSocketOptions } from './sessions/wa-socket.js';

/** How long `stop()` may take in all (pm2 and systemd wait about this long before SIGKILL). */
export const SHUTDOWN_BUDGET_MS = 10_000;

/** What the daemon is built from besides its configuration. */
export interface DaemonDeps {
  logger: Logger;
  /** Creates WhatsApp sockets: the Baileys factory in production, the test kit's fake in tests. */
  socketFactory: WaSocketFactory;
  /** Extra socket options for every connection (the emulator's agents and dispatcher). */
  socketOptions?: Partial<
    Pick<WaSocketOptions, 'agent' | 'fetchAgent' | 'fetchOptions' | 'mediaHost' | 'historySync' | 'connectTimeoutMs' | 'keepAliveIntervalMs'>
  >;
  /**
   * Tunables of the session registry: pacing, timeouts, circuit breaker, supervisor (backoff,
   * deaf-connection thresholds, QR printer), queue bound. Defaults are DESIGN §3's; tests
   * shorten them.
   */
  sessions?: Pick<SessionRegistryDeps, 'supervisor' | 'pacing' | 'timeouts' | 'circuit' | 'random' | 'sendWaitMs' | 'maxQueuedSends' | 'start'>;
  /** More dashboard authenticators, tried before the admin token and the JWT one (`STICKERBOT_JWT_SECRET`). */
  dashboardAuthenticators?: DashboardAuthenticator[];
  /**
   * The bounded caches the socket factory hands to Baileys (`createSocketCacheRegistry`, also
   * given to `createBaileysSocketFactory`), read by `/metrics`. Absent: only the group caches
   * are reported.
   */
  socketCaches?: Pick<SocketCacheRegistry, 'sizes'>;
  /** Clock (epoch ms). */
  now?: () => number;
  /** Collect prom-client's default process metrics (default true; tests turn it off). */
  processMetrics?: boolean;
  /**
   * Where the text QR goes and what that stream is (a process entry passes its stderr,
   * {@link processQrOutput}); `STICKERBOT_QR_TERMINAL` decides whether it is printed there.
   * Absent: no text QR (embedding code and tests). A QR printer in `sessions.supervisor` wins.
   */
  qrOutput?: QrOutput;
  /** Cluster-mode settings beyond the configuration (a key prefix, shorter timings, a lease clock for tests); used only with `config.cluster`. */
  cluster?: Pick<ClusterNodeOptions, 'prefix' | 'partitions' | 'timings' | 'monotonicNow'>;
}

/** The socket caches' sizes and estimated bytes with each session's group cache added (`groups`). */
function cacheEntries(
  socketCaches: Pick<SocketCacheRegistry, 'sizes'> | undefined,
  groups: Map<string, number>,
  groupBytes: Map<string, number>,
): CacheEntryCounts {
  const sizes = socketCaches?.sizes();
  const sessions = new Map<string, Record<string, number>>();
  const sessionBytes = new Map<string, number>();
  for (const [id, count] of groups) {
    sessions.set(id, { ...sizes?.sessions.get(id), groups: count });
    sessionBytes.set(id, (sizes?.sessionBytes.get(id) ?? 0) + (groupBytes.get(id) ?? 0));
  }
  return { sessions, sessionBytes, shared: sizes?.shared ?? {} };
}

/** A running (or stopped) daemon. */
export interface Daemon {
  /** Opens the store, listens, starts the boot sessions; resolves with the bound address. */
  start(): Promise<AddressInfo>;
  /** Stops taking commands, persists the queue, closes WhatsApp sockets without logging out, closes the store. */
  stop(): Promise<void>;
  /** The bound address, once started. */
  readonly address: AddressInfo | undefined;
  /** The bridge and admin token (explicit, or generated into the data folder), once started. */
  readonly token: string | undefined;
  /** The session registry, once started (for tests and embedding). */
  readonly registry: SessionRegistry | undefined;
  /** Cluster mode: this daemon's node (Redis, journal, leases), once started; `undefined` on one host. */
  readonly cluster: ClusterNode | undefined;
}

/** The journal's retention loop: SQLite's, or the Redis journal's in cluster mode. */
type Retention = Pick<JournalRetention, 'start' | 'stop' | 'status'>;

type Phase = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

interface Parts {
  storage: Storage;
  metrics: DaemonMetrics;
  registry: LocalSessionRegistry;
  /** Cluster mode only: the node the registry runs over (the bridge's cluster parts take it from here). */
  cluster: ClusterNode | undefined;
  /** Cluster mode only: commands to and from the other daemons. */
  forwarding: CommandForwarding | undefined;
  executor: CommandExecutor;
  retention: Retention;
  /** Cluster mode only: the Redis journal's and the cluster's facts `/readyz` and `/metrics` read, refreshed in the background. */
  clusterFacts: ClusterFactsCache | undefined;
  bridge: HttpServer;
  token: string;
}

async function withinDeadline(work: Promise<unknown>, ms: number, what: string, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, ms));
  });
  try {
    const outcome = await Promise.race([work.then(() => 'done' as const), timeout]);
    if (outcome === 'timeout') log.warn({ ms }, `${what} did not finish in time; going on with the shutdown`);
  } catch (err) {
    log.error({ err }, `${what} failed; going on with the shutdown`);
  } finally {
    clearTimeout(timer);
  }
}

/** Builds a daemon from its collaborators and configuration; nothing happens until `start()`. */
export function createDaemon(deps: DaemonDeps, config: DaemonConfig): Daemon {
  const log = deps.logger.child({ module: 'daemon' });
  const now = deps.now ?? Date.now;
  let phase: Phase = 'idle';
  let parts: Partial<Parts> = {};
  let starting: Promise<unknown> | undefined;
  let stopping: Promise<void> | undefined;
  // Known once the bridge listens (the port may be 0 until then); sessions start after that.
  let help: LoginHelp | undefined;

  function qrPrinter() {
    const given = deps.sessions?.supervisor?.qrPrinter;
    if (given) return given;
    const output = deps.qrOutput;
    return output && shouldPrintQr(config.qrTerminal, output.streams) ? terminalQrPrinter(output.stream, () => help) : silentQrPrinter;
  }

  /** Cluster mode: connects to Redis, opens the journal, loads the sessions' records. */
  async function joinCluster(): Promise<ClusterNode | undefined> {
    const cluster = config.cluster;
    if (!cluster) return undefined;
    const node = await createClusterNode({
      ...deps.cluster,
      redisUrl: cluster.redisUrl,
      daemonId: cluster.daemonId,
      timings: { leaseMs: cluster.leaseMs, ...deps.cluster?.timings },
      logger: deps.logger,
    });
    parts.cluster = node;
    return node;
  }

  function compose(cluster: ClusterNode | undefined): Parts {
    ensurePrivateDataDir(config.dataDir, log);
    const storage = openStorage(config.dataDir, { synchronous: config.dbSynchronous, logger: deps.logger });
    parts.storage = storage;
    const token = loadOrCreateToken(config.dataDir, config.token, log);
    const metrics = createMetrics({ journal: storage.journal, defaultMetrics: deps.processMetrics ?? true });
    const registry = createSessionRegistry({
      ...deps.sessions,
      supervisor: { ...deps.sessions?.supervisor, qrPrinter: qrPrinter(), loginHelp: () => help },
      // Cluster mode: journal, auth and session records in Redis; the outbox stays this daemon's.
      storage: cluster ? { journal: cluster.journal, auth: cluster.auth, sessions: cluster.sessions, outbox: storage.outbox } : storage,
      ...(cluster ? { ownership: cluster } : {}),
      socketFactory: deps.socketFactory,
      socketOptions: { ...deps.socketOptions, waWebSocketUrl: config.waUrl, version: config.waVersion ? [...config.waVersion] : undefined },
      maxMediaBytes: config.maxMediaBytes,
      start: { ...config.start, ...deps.sessions?.start },
      metrics,
      logger: deps.logger,
      now,
    });
    metrics.watch({ sessions: () => registry.list(), caches: () => cacheEntries(deps.socketCaches, registry.groupCacheSizes(), registry.groupCacheBytes()) });
    const clusterFacts = cluster
      ? createClusterFacts({ journal: cluster.journal, daemonId: cluster.daemonId, liveDaemons: () => cluster.liveDaemons(), owned: () => cluster.owned(), logger: deps.logger, now })
      : undefined;
    if (clusterFacts) metrics.watch({ journal: () => clusterFacts.journal(), cluster: () => clusterFacts.cluster() });
    // Cluster mode: commands for a session held elsewhere go to its owner, and the command log
    // is shared in Redis, so one command id runs once whichever daemon it reaches.
    const forwarding = cluster
      ? createCommandForwarding({
          redis: cluster.redis,
          keys: cluster.keys,
          daemonId: cluster.daemonId,
          ownerOf: (id) => cluster.ownerOf(id),
          owns: (id) => cluster.owns(id),
          logger: deps.logger.child({ module: 'forwarding' }),
        })
      : undefined;
    const executor = createCommandExecutor({
      commandLog: cluster
        ? createRedisCommandLog({ redis: cluster.redis, keys: cluster.keys, holder: cluster.daemonId, maxAgeMs: config.commandLogMaxAgeMs, now })
        : storage.commands,
      outbox: storage.outbox,
      route: forwarding?.route,
      logger: deps.logger.child({ module: 'commands' }),
      metrics,
      now,
    });
    const retentionPolicy = {
      maxAgeMs: config.journal.maxAgeMs,
      maxCount: config.journal.maxCount,
      maxUnacknowledged: config.journal.maxUnacknowledged,
    };
    const retention: Retention = cluster
      ? createRedisJournalRetention({ journal: cluster.journal, policy: retentionPolicy, intervalMs: config.journal.intervalMs, logger: deps.logger, now })
      : createJournalRetention({
      journal: storage.journal,
      policy: retentionPolicy,
      intervalMs: config.journal.intervalMs,
      commandLog: { log: storage.commands, maxAgeMs: config.commandLogMaxAgeMs },
      logger: deps.logger,
      now,
    });
    const verifyToken = (presented: string): boolean => tokensEqual(presented, token);
    const bridge = createHttpServer({
      registry,
      journal: storage.journal,
      executor,
      verifyToken,
      dashboardAuthenticator: composeAuthenticators(
        ...(deps.dashboardAuthenticators ?? []),
        // The admin token first: a JWT-shaped admin token must not be judged (and refused) as a JWT.
        createAdminTokenAuthenticator(verifyToken),
        ...(config.jwtSecret === undefined ? [] : [createJwtAuthenticator({ secret: config.jwtSecret, now })]),
      ),
      logger: deps.logger,
      maxMediaBytes: config.maxMediaBytes,
      startedAt: now(),
      now,
      readiness: createReadiness({
        isStoreOpen: () => storage.isOpen(),
        isRunning: () => phase === 'running',
        journal: clusterFacts ? () => clusterFacts.journal() : storage.journal,
        registry,
        retention: () => retention.status(),
        ...(clusterFacts ? { cluster: () => clusterFacts.cluster() } : {}),
      }),
      metrics,
      workerMetrics: metrics,
      allowedHosts: config.allowedHosts,
      metricsPublic: config.metricsPublic,
      ...(cluster && forwarding
        ? {
            workerDelivery: createConsumerDeliveryFactory({ journal: cluster.journal, redis: cluster.redis, daemonId: cluster.daemonId }),
            adapter: createClusterAdapter(cluster.redis, cluster.keys),
            forwarding,
            clusterSessions: () => listClusterSessions(cluster.sessionStore, () => registry.list().filter((s) => cluster.owns(s.id))),
          }
        : {}),
    });
    return { storage, metrics, registry, cluster, forwarding, executor, retention, clusterFacts, bridge, token };
  }

  async function shutdown(): Promise<void> {
    const started = performance.now();
    const left = (): number => SHUTDOWN_BUDGET_MS - (performance.now() - started);
    const { executor, retention, registry, bridge, storage, cluster, forwarding, clusterFacts } = parts;
    // 1. No new commands; the ones in flight get a moment to finish. A send still waiting
    //    in the outbound queue stays persisted and its caller gets SHUTTING_DOWN in step 2.
    //    Cluster mode: forwards waiting for another daemon are answered SHUTTING_DOWN.
    if (executor) await executor.close(Math.min(2000, left()));
    if (forwarding) await withinDeadline(forwarding.close(Math.min(1000, left())), left() - 5000, 'closing the command forwarding', log);
    retention?.stop();
    clusterFacts?.stop();
    // 1b. Cluster mode: hand every session over at once (socket closed, lease released, the
    //     others told); queued sends fail retryably for the new owners.
    if (cluster) await withinDeadline(cluster.stop(), left() - 3000, 'handing the sessions over', log);
    // 2. Persist the queue and close every WhatsApp socket without logging out.
    if (registry) await withinDeadline(registry.stopAll(), left() - 1500, 'stopping the sessions', log);
    // 3. Disconnect workers and dashboards, then close the store last.
    if (bridge) await withinDeadline(bridge.close(), left() - 200, 'closing the bridge', log);
    storage?.close();
  }

  async function boot(): Promise<AddressInfo> {
    try {
      parts = compose(await joinCluster());
      const { bridge, registry, retention, cluster, forwarding, clusterFacts } = parts as Parts;
      const address = await bridge.listen(config.host, config.port);
      help = loginHelp({ host: config.host, port: address.port, tokenConfigured: config.token !== undefined, dataDir: config.dataDir });
      retention.start();
      clusterFacts?.start();
      forwarding?.start();
      if (cluster) {
        registry.registerAll(config.sessions);
        await cluster.start({
          startSession: (id, epoch, stored) => registry.startLeased(id, epoch, stored),
          stopSession: (id, reason) =>
            registry.stopLeased(id, reason === 'lost' ? 'its lease was lost' : `it was ${reason === 'removed' ? 'stopped' : 'handed over'}`, { lost: reason === 'lost' }),
          isIdle: (id) => registry.isIdle(id),
        });
      } else {
        await registry.startAll(config.sessions);
      }
      phase = 'running';
      log.info(
        {
          host: address.address,
          port: address.port,
          dataDir: config.dataDir,
          dashboard: help.dashboard,
          ...(cluster ? { daemonId: cluster.daemonId, owned: cluster.owned() } : {}),
          sessions: registry.list().map((s) => `${s.id}:${s.status}`),
        },
        'daemon running',
      );
      return address;
    } catch (err) {
      log.error({ err }, 'daemon failed to start');
      phase = 'stopping';
      await shutdown();
      phase = 'stopped';
      throw err;
    }
  }

  return {
    start() {
      if (phase !== 'idle') return Promise.reject(new StickerbotError('INTERNAL', `the daemon cannot start from ${phase}`));
      phase = 'starting';
      const started = boot();
      starting = started.catch(() => undefined);
      return started;
    },
    stop() {
      // A second signal (SIGINT then SIGTERM) waits for the same shutdown instead of cutting it short.
      stopping ??= (async () => {
        // A signal during start-up: let the start finish (or fail), then stop what it built.
        if (phase === 'starting') await starting;
        if (phase !== 'running') {
          if (phase === 'idle') phase = 'stopped';
          return;
        }
        phase = 'stopping';
        log.info('daemon stopping');
        await shutdown();
        phase = 'stopped';
        log.info('daemon stopped');
      })();
      return stopping;
    },
    get address() {
      return parts.bridge?.address;
    },
    get token() {
      return parts.token;
    },
    get registry() {
      return parts.registry;
    },
    get cluster() {
      return parts.cluster;
    },
  };
}
