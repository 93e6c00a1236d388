/**
 * Who is on the other end of a bridge connection, and what they may do. Workers present
 * the bridge token; dashboards present the admin token today, and a JWT with `role` and
 * `sessions` claims once issue 8 lands: that is one more {@link DashboardAuthenticator}
 * composed in front of {@link createAdminTokenAuthenticator}, nothing else changes.
 */
import type { DashboardCommandName, WireError } from '@stickerbot/protocol';

/** The roles a dashboard user can have. `admin` sees and does everything. */
export type DashboardRole = 'admin' | 'operator' | 'viewer';

/** An authenticated dashboard user. */
export interface Principal {
  /** `admin` for the admin token, the JWT `sub` otherwise. */
  readonly subject: string;
  readonly role: DashboardRole;
  /** The sessions this user may see and control: `all`, or the JWT `sessions` claim. */
  readonly sessions: 'all' | ReadonlySet<string>;
  /** When the principal's token expires (epoch ms); absent for the admin token. */
  readonly expiresAt?: number;
}

/** Turns a presented token into a principal, or `undefined` when it is not valid. */
export interface DashboardAuthenticator {
  authenticate(token: string): Principal | undefined | Promise<Principal | undefined>;
}

/** The principal of the admin (bridge) token. */
export const ADMIN_PRINCIPAL: Principal = Object.freeze({ subject: 'admin', role: 'admin', sessions: 'all' });

/** Accepts the admin token (compared with `verify`, which must be constant-time). */
export function createAdminTokenAuthenticator(verify: (presented: string) => boolean): DashboardAuthenticator {
  return { authenticate: (token) => (verify(token) ? ADMIN_PRINCIPAL : undefined) };
}

/** Tries each authenticator in order; the first that recognises the token wins. */
export function composeAuthenticators(...authenticators: DashboardAuthenticator[]): DashboardAuthenticator {
  return {
    async authenticate(token) {
      for (const authenticator of authenticators) {
        const principal = await authenticator.authenticate(token);
        if (principal !== undefined) return principal;
      }
      return undefined;
    },
  };
}

/** Whether the principal may see a session (its state, QR, errors, messages). */
export function canSeeSession(principal: Principal, sessionId: string): boolean {
  return principal.sessions === 'all' || principal.sessions.has(sessionId);
}

const VIEWER_COMMANDS: ReadonlySet<DashboardCommandName> = new Set(['session:subscribe', 'session:unsubscribe']);

/** Whether the principal may run a dashboard command on a session. */
export function canRunDashboardCommand(principal: Principal, op: DashboardCommandName, sessionId: string): boolean {
  // Even an admin acts only inside its sessions claim: an admin JWT for `a,b` creates `c` only if it names `c`.
  if (!canSeeSession(principal, sessionId)) return false;
  if (principal.role === 'admin') return true;
  if (op === 'session:create') return false;
  return principal.role === 'operator' || VIEWER_COMMANDS.has(op);
}

/**
 * A refused handshake. Socket.IO sends its `message` and `data` to the client's
 * `connect_error`; `data` is the wire error (`UNAUTHORIZED`, `PROTOCOL_MISMATCH`, `INVALID_ARGS`).
 */
export class HandshakeRefusal extends Error {
  readonly data: WireError;
  constructor(error: WireError) {
    super(error.message);
    this.data = error;
  }
}
