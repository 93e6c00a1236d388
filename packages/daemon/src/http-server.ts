/**
 * One HTTP server on the bridge port: Socket.IO with the `/worker` and `/dashboard`
 * namespaces, and the health and metrics routes. Every HTTP route and every Socket.IO
 * handshake first passes the `Host` check (host-check.ts).
 */
import {
  BRIDGE_PACKET_OVERHEAD_BYTES,
  DASHBOARD_NAMESPACE,
  WORKER_NAMESPACE,
  type WorkerClientToServerEvents,
  type Session,
  type WorkerServerToClientEvents,
} from '@stickerbot/protocol';
import { createServer, type Server as NodeHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Server, type DefaultEventsMap, type ServerOptions } from 'socket.io';
import type { DashboardAuthenticator } from './bridge/auth.js';
import type { CommandExecutor } from './bridge/command-executor.js';
import type { CommandForwarding } from './cluster/command-forwarding.js';
import { createDashboardCommandTable } from './dashboard/commands.js';
import { createDashboardPageRoutes } from './dashboard/page-routes.js';
import { attachDashboardLiveFeed, createRecentMessages } from './dashboard/live-feed.js';
import { attachDashboardNamespace, type DashboardNamespace } from './dashboard/namespace.js';
import { createHostPolicy, createHostRefusalLog, guardHost, type HostPolicy } from './host-check.js';
import { createHealthRoutes, type MetricsSource, type ReadinessReport } from './bridge/health-routes.js';
import type { SessionRegistry } from './session-registry.js';
import type { Journal } from './storage/index.js';
import { createWorkerCommandTable } from './bridge/worker-commands.js';
import { attachWorkerNamespace, type WorkerNamespace, type WorkerNamespaceMetrics, type WorkerSocketData } from './bridge/worker-namespace.js';
import type { WorkerDeliveryFactory } from './bridge/worker-delivery.js';

/** Collaborators of {@link createHttpServer}. */
export interface HttpServerDeps {
  registry: SessionRegistry;
  journal: Journal;
  executor: CommandExecutor;
  /** Constant-time check of a presented bridge token (workers). */
  verifyToken: (presented: string) => boolean;
  /** Dashboard authentication (admin token now, JWT later). */
  dashboardAuthenticator: DashboardAuthenticator;
  logger: Logger;
  /** Largest media accepted or sent, in bytes; Socket.IO's packet cap is this plus the protocol's overhead. */
  maxMediaBytes: number;
  /** When the daemon started (epoch ms), reported by `daemon:status`. */
  startedAt: number;
  now: () => number;
  readiness: () => ReadinessReport;
  metrics: MetricsSource;
  /** More `Host` names accepted besides localhost, loopback and the bind address (`STICKERBOT_ALLOWED_HOSTS`). */
  allowedHosts?: readonly string[];
  /** Serve `/metrics` without the admin token (`STICKERBOT_METRICS_PUBLIC`). Default false. */
  metricsPublic?: boolean;
  workerMetrics?: WorkerNamespaceMetrics;
  /** Journal entries per replay batch. */
  replayBatchSize?: number;
  /** Most entries out to one worker connection and not yet acknowledged (default `DEFAULT_MAX_UNACKED`). */
  maxUnacked?: number;
  /** Where worker connections' entries come from (default: `journal`, the SQLite journal); cluster mode passes the Redis journal's. */
  workerDelivery?: WorkerDeliveryFactory;
  /**
   * Cluster mode: the Socket.IO adapter the daemons share (`createClusterAdapter`,
   * cluster/cluster-dashboards.ts), so a room broadcast reaches the dashboards of every daemon.
   * Default: Socket.IO's in-memory adapter.
   */
  adapter?: ServerOptions['adapter'];
  /** Cluster mode: runs commands forwarded by other daemons; both command tables are served to it. */
  forwarding?: Pick<CommandForwarding, 'serve'>;
  /** Cluster mode: every session of the cluster, for a dashboard's list (`listClusterSessions`). */
  clusterSessions?: () => Promise<Session[]>;
}

/** The running HTTP server. */
export interface HttpServer {
  /** Starts listening; resolves with the bound address. */
  listen(host: string, port: number): Promise<AddressInfo>;
  /** The bound address, once listening. */
  readonly address: AddressInfo | undefined;
  /** Disconnects every client and closes the HTTP server. */
  close(): Promise<void>;
}

/**
 * Creates the daemon port's HTTP server: the Socket.IO bridge with both namespaces, the
 * dashboard page and the health routes (not yet listening).
 */
export function createHttpServer(deps: HttpServerDeps): HttpServer {
  const log = deps.logger.child({ module: 'bridge' });
  // The bind address is known at listen(); until then nothing is served anyway.
  let hostPolicy: HostPolicy = () => false;
  const hostRefused = createHostRefusalLog(deps.logger.child({ module: 'http' }));
  // Health details and metrics are for an admin (the admin token, or an admin JWT for every session).
  const isAdmin = async (token: string): Promise<boolean> => {
    const principal = await deps.dashboardAuthenticator.authenticate(token);
    return principal?.role === 'admin' && principal.sessions === 'all';
  };
  const routes = createHealthRoutes({ readiness: deps.readiness, metrics: deps.metrics, isAdmin, metricsPublic: deps.metricsPublic, logger: deps.logger });
  const http: NodeHttpServer = createServer(guardHost(() => hostPolicy, hostRefused, createDashboardPageRoutes(routes)));
  // Typed with the worker maps (the main namespace); the dashboard namespace gets its own below.
  const io = new Server<WorkerClientToServerEvents, WorkerServerToClientEvents, DefaultEventsMap, WorkerSocketData>(http, {
    // Socket.IO's default is 1 MB; media up to the cap must fit in one packet, and a
    // bigger packet closes the connection before it reaches any handler.
    maxHttpBufferSize: deps.maxMediaBytes + BRIDGE_PACKET_OVERHEAD_BYTES,
    // The dashboard page loads the Socket.IO client from /socket.io/socket.io.min.js: no CDN.
    serveClient: true,
    ...(deps.adapter === undefined ? {} : { adapter: deps.adapter }),
    // Every handshake (polling or WebSocket); later requests carry the session id it made.
    allowRequest: (req, callback) => {
      const allowed = hostPolicy(req.headers.host);
      if (!allowed) hostRefused(req);
      callback(allowed ? null : 'host not allowed', allowed);
    },
  });
  const workers: WorkerNamespace = io.of(WORKER_NAMESPACE);
  // Socket.IO types every namespace with the server's maps; the dashboard speaks its own protocol maps.
  const dashboards = io.of(DASHBOARD_NAMESPACE) as unknown as DashboardNamespace;
  const workerCommands = createWorkerCommandTable({ registry: deps.registry, maxMediaBytes: deps.maxMediaBytes, startedAt: deps.startedAt, now: deps.now });
  const worker = attachWorkerNamespace({
    namespace: workers,
    registry: deps.registry,
    journal: deps.journal,
    executor: deps.executor,
    commands: workerCommands,
    verifyToken: deps.verifyToken,
    logger: deps.logger,
    metrics: deps.workerMetrics,
    replayBatchSize: deps.replayBatchSize,
    maxUnacked: deps.maxUnacked,
    delivery: deps.workerDelivery,
  });
  const recent = createRecentMessages(deps.registry);
  const dashboardCommands = createDashboardCommandTable(deps.registry, (sessionId) => recent.list(sessionId));
  const dashboard = attachDashboardNamespace({
    namespace: dashboards,
    registry: deps.registry,
    executor: deps.executor,
    commands: dashboardCommands,
    authenticator: deps.dashboardAuthenticator,
    logger: deps.logger,
    clusterSessions: deps.clusterSessions,
  });
  deps.forwarding?.serve({
    name: 'worker',
    commands: workerCommands,
    executor: deps.executor,
    encodeContext: () => null,
    decodeContext: () => undefined,
  });
  deps.forwarding?.serve({
    name: 'dashboard',
    commands: dashboardCommands,
    executor: deps.executor,
    encodeContext: dashboard.contexts.encode,
    decodeContext: dashboard.contexts.decode,
  });
  const live = attachDashboardLiveFeed({
    dashboards,
    journal: deps.journal,
    workerGroups: () => [...workers.sockets.values()].map((socket) => socket.data.group),
    logger: deps.logger,
    now: deps.now,
  });
  let address: AddressInfo | undefined;

  return {
    listen(host, port) {
      hostPolicy = createHostPolicy({ bindHost: host, allowedHosts: deps.allowedHosts });
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        http.once('error', onError);
        http.listen(port, host, () => {
          http.off('error', onError);
          address = http.address() as AddressInfo;
          log.info({ host: address.address, port: address.port }, 'bridge listening');
          resolve(address);
        });
      });
    },
    get address() {
      return address;
    },
    async close() {
      worker.detach();
      dashboard.detach();
      live.detach();
      recent.detach();
      // io.close() alone drops connections with their unsent packets (command answers,
      // journal entries) discarded; a graceful disconnect first flushes them and tells the
      // clients the server left (`io server disconnect`) rather than that the line broke.
      // `local`: with the cluster's adapter a plain disconnectSockets reaches every daemon's clients.
      workers.local.disconnectSockets(true);
      dashboards.local.disconnectSockets(true);
      const deadline = Date.now() + 1000;
      while (io.engine.clientsCount > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      // Then io.close() closes what is left and the HTTP server it is attached to.
      await new Promise<void>((resolve) => {
        void io.close(() => resolve());
      });
      http.closeAllConnections();
      log.info('bridge closed');
    },
  };
}
