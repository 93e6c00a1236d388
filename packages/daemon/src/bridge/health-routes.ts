/**
 * The plain HTTP endpoints on the bridge port: `/healthz` (the process answers), `/readyz`
 * (store open, journal not full, in cluster mode Redis answering; sessions by state) and `/metrics` (Prometheus text).
 * Socket.IO handles its own `/socket.io/` path before this handler sees a request.
 *
 * Anyone who reaches the port may learn whether the daemon is alive and ready and how many
 * sessions are in which state. Session ids, error texts, consumer groups and the per-session
 * counters of `/metrics` are for the operator: `/readyz?verbose` and `/metrics` need
 * `Authorization: Bearer <admin token>` (`/metrics` not with `STICKERBOT_METRICS_PUBLIC`).
 */
import { SESSION_STATUSES, type Session, type SessionStatus } from '@stickerbot/protocol';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ClusterFacts } from './readiness.js';

/** The daemon's readiness, as `/readyz?verbose` reports it to the admin. */
export interface ReadinessReport {
  ready: boolean;
  /** Why it is not ready, one line each (empty when ready). */
  problems: string[];
  checks: {
    /** Whether the SQLite store is open. */
    store: boolean;
    /** Whether the daemon is running (false while starting or shutting down). */
    running: boolean;
    journal: {
      /** Highest `seq` appended. */
      lastSeq: number;
      /** Entries held. */
      entries: number;
      /** Whether the unacknowledged entries passed the configured bound (see retention). */
      full: boolean;
      /** Acknowledged position of every consumer group; on Redis also what it still has to handle (pending + undelivered). */
      groups: Array<{ group: string; position: number; lag: number; unacknowledged?: number }>;
    } | null;
    /** Cluster mode only: Redis' reachability, this daemon's id, the sessions it runs, the live daemons. */
    cluster?: ClusterFacts;
  };
  /** Every session's state, why it last disconnected, its last error, its next retry and, while it waits to connect after a restart, since when. */
  sessions: Array<Pick<Session, 'id' | 'status' | 'lastDisconnect' | 'lastError' | 'reconnectAttempts' | 'nextRetryAt' | 'queuedAt'>>;
}

/** What `/readyz` tells anyone: ready or not, and how many sessions are in which state. */
export interface PublicReadiness {
  ready: boolean;
  sessions: { total: number; byStatus: Record<SessionStatus, number> };
}

/** A Prometheus registry (prom-client's `Registry` fits). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** Collaborators of {@link createHealthRoutes}. */
export interface HealthRoutesDeps {
  readiness: () => ReadinessReport;
  metrics: MetricsSource;
  /** Whether a presented bearer token is the admin's (constant-time). */
  isAdmin: (token: string) => boolean | Promise<boolean>;
  /** Serve `/metrics` without a token (`STICKERBOT_METRICS_PUBLIC`). Default false. */
  metricsPublic?: boolean;
  logger: Logger;
}

/** The public view of a readiness report: no ids, no error texts, no group names. */
export function publicReadiness(report: ReadinessReport): PublicReadiness {
  const byStatus = Object.fromEntries(SESSION_STATUSES.map((status) => [status, 0])) as Record<SessionStatus, number>;
  for (const { status } of report.sessions) byStatus[status] += 1;
  return { ready: report.ready, sessions: { total: report.sessions.length, byStatus } };
}

function bearerToken(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/** The request handler of the health and metrics routes; anything else is 404. */
export function createHealthRoutes(deps: HealthRoutesDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const log = deps.logger.child({ module: 'http' });
  const isAdmin = async (req: IncomingMessage): Promise<boolean> => {
    const token = bearerToken(req);
    return token !== undefined && (await deps.isAdmin(token));
  };
  const unauthorized = (res: ServerResponse): void => {
    res.setHeader('www-authenticate', 'Bearer realm="stickerbot"');
    sendJson(res, 401, { error: 'unauthorized: send Authorization: Bearer <admin token>' });
  };
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>> = {
    '/healthz': (_req, res) => sendJson(res, 200, { ok: true }),
    '/readyz': async (req, res, url) => {
      const verbose = url.searchParams.has('verbose');
      if (verbose && !(await isAdmin(req))) return unauthorized(res);
      const report = deps.readiness();
      sendJson(res, report.ready ? 200 : 503, verbose ? report : publicReadiness(report));
    },
    '/metrics': async (req, res) => {
      if (deps.metricsPublic !== true && !(await isAdmin(req))) return unauthorized(res);
      const text = await deps.metrics.metrics();
      res.writeHead(200, { 'content-type': deps.metrics.contentType, 'cache-control': 'no-store' });
      res.end(text);
    },
  };
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (route === undefined) return sendJson(res, 404, { error: 'not found' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendJson(res, 405, { error: 'method not allowed' });
    }
    Promise.resolve(route(req, res, url)).catch((err: unknown) => {
      log.error({ err, path }, 'route failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  };
}
