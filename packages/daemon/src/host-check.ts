/**
 * DNS rebinding: a web page on `evil.example` points that name at 127.0.0.1, and the
 * browser then lets the page read what the daemon's loopback port answers, since for the
 * browser it is the page's own origin. The browser still sends `Host: evil.example`, so
 * every HTTP route and the Socket.IO handshake accept only the names the daemon is really
 * reached by: `localhost`, the loopback addresses, the bind address, and the names the
 * operator configured (`STICKERBOT_ALLOWED_HOSTS`, e.g. a reverse proxy's public name).
 * Bound to a wildcard address (0.0.0.0, ::) the daemon is reached by any of the machine's
 * addresses, so any IP address is accepted there: rebinding needs a name, never an address.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { Logger } from 'pino';

/** Inputs of {@link createHostPolicy}. */
export interface HostPolicyOptions {
  /** The address the daemon listens on (`STICKERBOT_HOST`). */
  bindHost: string;
  /** More accepted names (`STICKERBOT_ALLOWED_HOSTS`), lower-case. */
  allowedHosts?: readonly string[];
}

/** Whether a request's `Host` header names this daemon. */
export type HostPolicy = (hostHeader: string | undefined) => boolean;

const WILDCARD_BINDS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

/** The host of a `Host` header, lower-case, without port, IPv6 brackets or a trailing dot; undefined when malformed. */
export function hostOfHeader(header: string): string | undefined {
  const value = header.trim().toLowerCase();
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(value);
  if (bracketed) return bracketed[1];
  const plain = /^([a-z0-9_.-]+?)\.?(?::\d{1,5})?$/.exec(value);
  return plain?.[1];
}

/** The accepted `Host` names for a daemon bound to `bindHost`. */
export function createHostPolicy(options: HostPolicyOptions): HostPolicy {
  const bind = options.bindHost.toLowerCase();
  const wildcard = WILDCARD_BINDS.has(bind);
  const names = new Set(['localhost', '127.0.0.1', '::1', ...(options.allowedHosts ?? [])]);
  if (!wildcard) names.add(bind);
  return (header) => {
    if (header === undefined) return false;
    const host = hostOfHeader(header);
    if (host === undefined) return false;
    return names.has(host) || (wildcard && isIP(host) !== 0);
  };
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Wraps a request handler: a request whose `Host` the policy refuses gets `403` with a
 * short plain-text body and is reported to `refused`; the rest go to `next`.
 */
export function guardHost(policy: () => HostPolicy, refused: (req: IncomingMessage) => void, next: Handler): Handler {
  return (req, res) => {
    if (policy()(req.headers.host)) return next(req, res);
    refused(req);
    const body = 'Forbidden: this daemon is not reached by that host name (see STICKERBOT_ALLOWED_HOSTS)\n';
    res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(body);
  };
}

/**
 * Logs refused `Host`s (HTTP routes and Socket.IO handshakes): the first refusal at once,
 * then at most one line per `intervalMs` carrying how many were not logged in between, so
 * that a hostile page firing requests in a loop cannot flood the log.
 */
export function createHostRefusalLog(log: Logger, intervalMs = 60_000, now: () => number = Date.now): (req: IncomingMessage) => void {
  let lastLoggedAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (req) => {
    if (now() - lastLoggedAt < intervalMs) {
      suppressed += 1;
      return;
    }
    lastLoggedAt = now();
    log.warn(
      { host: req.headers.host?.slice(0, 256), path: req.url?.split('?')[0]?.slice(0, 256), remote: req.socket.remoteAddress, suppressed },
      'refused a request for a host name this daemon does not serve (DNS rebinding?)',
    );
    suppressed = 0;
  };
}
