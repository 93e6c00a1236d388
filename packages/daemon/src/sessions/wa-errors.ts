/**
 * Errors thrown by the WhatsApp socket (Baileys throws `Boom`s with an HTTP-like
 * `output.statusCode`) turned into the daemon's typed errors, so that the bridge answers
 * with a stable code and says whether retrying can help.
 */
import { StickerbotError } from '@stickerbot/protocol';
import { statusCodeOf } from './disconnect-policy.js';

const CALLER_STATUSES = new Set([400, 404, 406, 409]);
const DISCONNECTED_STATUSES = new Set([408, 428, 440, 515]);

/** `op` failed with `error`: the daemon's typed error for it. */
export function toSessionError(op: string, error: unknown): StickerbotError {
  if (error instanceof StickerbotError) return error;
  const status = statusCodeOf(error);
  const reason = error instanceof Error ? error.message : String(error);
  const message = `${op} failed: ${reason}${status === undefined ? '' : ` (${status})`}`;
  if (status !== undefined && DISCONNECTED_STATUSES.has(status)) return new StickerbotError('SESSION_NOT_CONNECTED', message, { cause: error });
  if (status === 429) return new StickerbotError('RATE_LIMITED', message, { cause: error });
  if (status !== undefined && CALLER_STATUSES.has(status)) return new StickerbotError('INVALID_ARGS', `WhatsApp refused: ${message}`, { cause: error });
  if (status !== undefined && status >= 400 && status < 500) return new StickerbotError('INTERNAL', message, { cause: error, retryable: false });
  return new StickerbotError('INTERNAL', message, { cause: error, retryable: true });
}
