/**
 * What the daemon does when a WhatsApp connection closes, by Baileys `DisconnectReason`
 * (DESIGN §3). One table, one line a reason; anything not in it reconnects with backoff.
 */
import type { WireError } from '@stickerbot/protocol';

/** What the supervisor does after a close. */
export type DisconnectAction =
  /** Reconnect at once, without counting a backoff attempt (WhatsApp asked for a restart, e.g. after pairing). */
  | 'reconnect-now'
  /** Unlinked from the phone: wipe this session's auth, `LOGGED_OUT`, no reconnect. */
  | 'logged-out'
  /** Stop in `ERROR` and report `error` (conflict, bad session, refused version). */
  | 'stop'
  /** Reconnect after an exponential backoff with full jitter. */
  | 'backoff';

/** The decision for one close. */
export interface DisconnectDecision {
  /** The reason's name as shown on the dashboard (`Session.lastDisconnect`). */
  reason: string;
  /** The HTTP-like status code Baileys reported (undefined when it gave none). */
  statusCode: number | undefined;
  action: DisconnectAction;
  /** What to report for `stop` and `logged-out`. */
  error?: WireError;
}

interface PolicyRow {
  reason: string;
  action: DisconnectAction;
  error?: (detail: string) => WireError;
}

const stopError = (message: string) => (detail: string): WireError => ({
  code: 'SESSION_NOT_CONNECTED',
  message: `${message} (${detail})`,
  retryable: false,
});

/** The policy table, by status code. */
export const DISCONNECT_POLICY: Readonly<Record<number, PolicyRow>> = Object.freeze({
  515: { reason: 'restartRequired', action: 'reconnect-now' },
  401: {
    reason: 'loggedOut',
    action: 'logged-out',
    error: stopError('Logged out from the phone: the credentials were wiped; start the session to link it again'),
  },
  440: {
    reason: 'connectionReplaced',
    action: 'stop',
    error: stopError('Conflict: another WhatsApp Web client took over this session; stopped instead of fighting it. Start it again once the other client is gone'),
  },
  500: {
    reason: 'badSession',
    action: 'stop',
    error: stopError('Bad session: WhatsApp rejected the stored session; log out and link the device again'),
  },
  411: {
    reason: 'multideviceMismatch',
    action: 'stop',
    error: stopError('Multi-device mismatch: the phone does not support this linked-device protocol'),
  },
  405: {
    reason: 'versionRefused',
    action: 'stop',
    error: stopError('WhatsApp refused the announced WhatsApp Web version; configure a current version and start the session again'),
  },
  428: { reason: 'connectionClosed', action: 'backoff' },
  408: { reason: 'connectionLost', action: 'backoff' },
  403: { reason: 'forbidden', action: 'backoff' },
  503: { reason: 'unavailableService', action: 'backoff' },
});

/** The status code of a close error: Baileys puts a `Boom` with `output.statusCode` in `lastDisconnect.error`. */
export function statusCodeOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('output' in error)) return undefined;
  const output = error.output;
  if (typeof output !== 'object' || output === null || !('statusCode' in output)) return undefined;
  return typeof output.statusCode === 'number' ? output.statusCode : undefined;
}

/** Decides what to do after a close with `error` (from `connection.update`). */
export function decideDisconnect(error: unknown): DisconnectDecision {
  const statusCode = statusCodeOf(error);
  const message = error instanceof Error ? error.message : 'connection closed';
  const row = statusCode === undefined ? undefined : DISCONNECT_POLICY[statusCode];
  if (!row) return { reason: statusCode === undefined ? 'unknown' : `status ${statusCode}`, statusCode, action: 'backoff' };
  const detail = `${row.reason} ${statusCode}: ${message}`;
  return { reason: row.reason, statusCode, action: row.action, ...(row.error ? { error: row.error(detail) } : {}) };
}
