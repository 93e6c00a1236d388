/**
 * The plain HTTP endpoints on the bridge port: `/healthz` (the process answers), `/readyz`
 * (store open, sessions' states, journal not full) and `/metrics` (Prometheus text).
 * Socket.IO handles its own `/socket.io/` path before this handler sees a request.
 */
import type { Session } from '@stickerbot/protocol';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

/** The daemon's readiness, as `/readyz` reports it. */
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
      /** Acknowledged position of every consumer group. */
      groups: Array<{ group: string; position: number; lag: number }>;
    } | null;
  };
  /** Every session's state, why it last disconnected, its last error and its next retry. */
  sessions: Array<Pick<Session, 'id' | 'status' | 'lastDisconnect' | 'lastError' | 'reconnectAttempts' | 'nextRetryAt'>>;
}

/** A Prometheus registry (prom-client's `Registry` fits). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** Collaborators of {@link createHttpHandler}. */
export interface HttpRoutesDeps {
  readiness: () => ReadinessReport;
  metrics: MetricsSource;
  logger: Logger;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/** The request handler of the health and metrics routes; anything else is 404. */
export function createHttpHandler(deps: HttpRoutesDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const log = deps.logger.child({ module: 'http' });
  const routes: Record<string, (res: ServerResponse) => void | Promise<void>> = {
    '/healthz': (res) => sendJson(res, 200, { ok: true }),
    '/readyz': (res) => {
      const report = deps.readiness();
      sendJson(res, report.ready ? 200 : 503, report);
    },
    '/metrics': async (res) => {
      const text = await deps.metrics.metrics();
      res.writeHead(200, { 'content-type': deps.metrics.contentType, 'cache-control': 'no-store' });
      res.end(text);
    },
  };
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (route === undefined) return sendJson(res, 404, { error: 'not found' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendJson(res, 405, { error: 'method not allowed' });
    }
    Promise.resolve(route(res)).catch((err: unknown) => {
      log.error({ err, path }, 'route failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  };
}
