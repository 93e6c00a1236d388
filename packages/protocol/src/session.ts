import { z } from 'zod';
import { wireErrorSchema } from './errors.js';
import { MAX_NAME_LENGTH } from './limits.js';
import { jidSchema, phoneSchema, sessionIdSchema, timestampSchema } from './primitives.js';

/**
 * The session state machine:
 * `STOPPED → CONNECTING → QR_REQUIRED ⇄ CONNECTING → CONNECTED → RECONNECTING → …`,
 * terminal `LOGGED_OUT`; `ERROR` carries the last error (bad session, conflict, refused version).
 */
export const SESSION_STATUSES = [
  'STOPPED',
  'CONNECTING',
  'QR_REQUIRED',
  'CONNECTED',
  'RECONNECTING',
  'LOGGED_OUT',
  'ERROR',
] as const;

/** Zod schema of a {@link SessionStatus}. */
export const sessionStatusSchema = z.enum(SESSION_STATUSES);
/** One state of the session state machine (see {@link SESSION_STATUSES}). */
export type SessionStatus = z.infer<typeof sessionStatusSchema>;

/** The WhatsApp account a connected session is logged in as. */
export const accountSchema = z.object({
  /** The account's JID, e.g. `4915123456789@s.whatsapp.net`. */
  jid: jidSchema,
  /** The account's LID, when WhatsApp announced one. */
  lid: jidSchema.optional(),
  /** Phone number, digits only. */
  phone: phoneSchema.optional(),
  /** Profile (push) name. */
  name: z.string().max(MAX_NAME_LENGTH).optional(),
});
/** The WhatsApp account a connected session is logged in as. */
export type Account = z.infer<typeof accountSchema>;

/** A session as the daemon reports it, on every state change and on `session:list`. */
export const sessionSchema = z.object({
  /** Session id. */
  id: sessionIdSchema,
  /** Current state. */
  status: sessionStatusSchema,
  /** The logged-in account, once known (kept while reconnecting). */
  account: accountSchema.optional(),
  /** The last error, set in `ERROR` and after a failed connection attempt. */
  lastError: wireErrorSchema.optional(),
  /** Why the last connection closed (the Baileys `DisconnectReason` name), if it has closed. */
  lastDisconnect: z.string().max(64).optional(),
  /** Consecutive reconnect attempts since the last stable connection. */
  reconnectAttempts: z.number().int().nonnegative(),
  /** When the next reconnect attempt is due (epoch ms), while `RECONNECTING`. */
  nextRetryAt: timestampSchema.optional(),
  /**
   * While `CONNECTING` after a daemon restart: when the session joined the start queue (epoch
   * ms). The daemon connects only a few sessions at once (`STICKERBOT_START_CONCURRENCY`); a
   * session with `queuedAt` waits for its turn and has no socket yet. Absent once it connects.
   */
  queuedAt: timestampSchema.optional(),
  /** When the status last changed (epoch ms). */
  updatedAt: timestampSchema,
});
/** A session as the daemon reports it. */
export type Session = z.infer<typeof sessionSchema>;
