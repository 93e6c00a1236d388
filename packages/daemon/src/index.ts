/**
 * `@stickerbot/daemon`: the long-lived connection daemon. The composition root is
 * `main.ts` (`pnpm daemon`); this barrel is what embedding code and other packages' tests
 * may use. The fake WhatsApp lives in `@stickerbot/daemon/test-kit`.
 */
export { createDaemon, SHUTDOWN_BUDGET_MS, type Daemon, type DaemonDeps } from './daemon.js';
export { runDaemonProcess } from './run-daemon-process.js';
export { isLoopbackHost, loadConfig, type ClusterConfig, type DaemonConfig, type JournalRetentionConfig } from './config.js';
export {
  QR_TERMINAL_MODES,
  processQrOutput,
  renderQrText,
  shouldPrintQr,
  silentQrPrinter,
  terminalQrPrinter,
  type QrOutput,
  type QrPrinter,
  type QrStreams,
  type QrTerminalMode,
} from './qr-output.js';
export { loginHelp, type LoginHelp } from './login-help.js';
export { TOKEN_FILE, loadOrCreateToken, tokensEqual } from './token.js';
export {
  ADMIN_PRINCIPAL,
  HandshakeRefusal,
  canRunDashboardCommand,
  canSeeSession,
  composeAuthenticators,
  createAdminTokenAuthenticator,
  type DashboardAuthenticator,
  type DashboardRole,
  type Principal,
} from './bridge/auth.js';
export { createHttpServer, type HttpServer, type HttpServerDeps } from './http-server.js';
export {
  createCommandExecutor,
  type CommandExecutor,
  type CommandExecutorDeps,
  type CommandMetricsSink,
  type CommandSpec,
} from './bridge/command-executor.js';
export type { ReadinessReport } from './bridge/health-routes.js';
export type { SessionRegistry, SessionRegistryEvents } from './session-registry.js';
export { createSessionRegistry, type RegistryStorage, type SessionOwnership, type SessionRegistryDeps } from './sessions/registry.js';
export type { MaybePromise } from './sessions/maybe-promise.js';
export type { SessionJournal } from './sessions/session-journal.js';
export { createBaileysSocketFactory, type BaileysSocketFactoryOptions } from './sessions/baileys-socket-factory.js';
export {
  createSocketCacheRegistry,
  DEFAULT_SOCKET_CACHE_LIMITS,
  type SocketCacheLimits,
  type SocketCacheRegistry,
  type SocketCacheSizes,
} from './sessions/socket-caches.js';
export type {
  HistorySyncPolicy,
  WaDownloadOptions,
  WaSocket,
  WaSocketEmitter,
  WaSocketEventName,
  WaSocketEvents,
  WaSocketFactory,
  WaSocketOptions,
  WaTransport,
  WaTransportEvents,
} from './sessions/wa-socket.js';
export { DATABASE_FILE, openStorage, unpackText, type OpenStorageOptions, type Storage, type StoredText, type SynchronousLevel } from './storage/index.js';
export type {
  AuthStore,
  CommandLog,
  CommandRecord,
  GroupPosition,
  Journal,
  JournalAppend,
  OutboxItem,
  OutboxStore,
  PruneOutcome,
  RetentionPolicy,
  SessionStore,
  StoredSession,
} from './storage/index.js';
export { createMetrics, type DaemonMetrics, type MetricsOptions } from './metrics.js';
export { createJournalRetention, type JournalRetention, type RetentionStatus } from './storage/index.js';
export { DEFAULT_CHECKPOINT_IDLE_MS, DEFAULT_POSITION_DELAY_MS } from './storage/index.js';
export {
  ALL_SESSIONS,
  DASHBOARD_JWT_AUDIENCE,
  DASHBOARD_JWT_ISSUER,
  MIN_JWT_SECRET_LENGTH,
  createJwtAuthenticator,
  dashboardClaimsSchema,
  signDashboardToken,
  type DashboardTokenRequest,
  type JwtAuthenticatorOptions,
} from './dashboard/jwt.js';
export { DASHBOARD_PATH, createDashboardPageRoutes } from './dashboard/page-routes.js';
export { DEFAULT_TOKEN_TTL, TOKEN_USAGE, parseTokenArgs, parseTtl } from './dashboard/token-request.js';
// Cluster mode (issue 17), session ownership: leases, membership, balancer, Redis stores.
export { ClusterError, createRedisConnection, isClusterError, type ClusterErrorCode, type RedisConnectionOptions } from './cluster/redis-connection.js';
export { DEFAULT_REDIS_KEY_PREFIX, createRedisKeys, type RedisKeys, type SessionKeys } from './cluster/redis-keys.js';
export {
  DEFAULT_LEASE_MS,
  createSessionLeases,
  leaseTimings,
  type LeaseHolder,
  type LeaseLossReason,
  type LeaseTimings,
  type SessionLeases,
  type SessionLeasesOptions,
} from './cluster/session-lease.js';
export { createDaemonMembership, membershipTtlMs, type DaemonMembership, type DaemonMembershipOptions } from './cluster/daemon-membership.js';
export { createSessionBalancer, type SessionBalancer, type SessionBalancerOptions, type SessionStopReason } from './cluster/session-balancer.js';
export { createClusterNode, type ClusterNode, type ClusterNodeOptions, type ClusterSessionHandlers } from './cluster/cluster-node.js';
export { createRedisSessionView, type RedisSessionView, type RedisSessionViewOptions } from './cluster/redis-session-view.js';
export {
  createLeasedAuthStore,
  createRedisAuthStore,
  type LeasedAuthStore,
  type RedisAuthSession,
  type RedisAuthStore,
} from './cluster/redis-auth-store.js';
export { createRedisSessionStore, type RedisSessionStore, type SessionSave } from './cluster/redis-session-store.js';
// Cluster mode: the journal on Redis Streams and its consumers.
export { consumerIdOf, createConsumerDelivery, createConsumerDeliveryFactory, type ConsumerDeliveryOptions } from './cluster/consumer-delivery.js';
export { createSqliteDeliveryFactory, type WorkerDelivery, type WorkerDeliveryFactory, type WorkerDeliveryRequest } from './bridge/worker-delivery.js';
export { openJournalConsumer, type ConsumerBatch, type JournalConsumer, type JournalConsumerOptions, type ReadOptions, type RejectedEntry } from './cluster/journal-consumer.js';
export { DEFAULT_PARTITIONS } from './cluster/partition-of.js';
export type { PartitionedEntry } from './cluster/redis-journal-codec.js';
export { openRedisJournal, type GroupStatus, type RedisJournal, type RedisJournalOptions } from './cluster/redis-journal.js';
