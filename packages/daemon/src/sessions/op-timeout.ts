/**
 * Per-operation deadlines (DESIGN §3, after Baileys' best-practice table): a send 30 s, a
 * number lookup 12 s, a media download 60 s. Past its deadline an operation fails with
 * `TIMEOUT` (retryable); the underlying Baileys call is abandoned, or aborted when it
 * takes a signal.
 */
import { StickerbotError } from '@stickerbot/protocol';

/** Deadlines per kind of operation, in ms. */
export interface OpTimeouts {
  /** `message:send` and other stanza round trips (default 30 s). */
  sendMs: number;
  /** `contact:lookup`, `group:metadata` (default 12 s). */
  lookupMs: number;
  /** `media:download` (default 60 s). */
  downloadMs: number;
}

/** The defaults of {@link OpTimeouts}. */
export const DEFAULT_OP_TIMEOUTS: Readonly<OpTimeouts> = Object.freeze({ sendMs: 30_000, lookupMs: 12_000, downloadMs: 60_000 });

/**
 * Runs `operation` with a deadline. The signal it receives aborts at the deadline; the
 * returned promise rejects with `TIMEOUT` then, whether or not the operation honours it.
 */
export function withTimeout<T>(op: string, ms: number, operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new StickerbotError('TIMEOUT', `${op}: WhatsApp did not answer within ${Math.round(ms / 100) / 10} s`);
      controller.abort(error);
      reject(error);
    }, ms);
    operation(controller.signal).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
