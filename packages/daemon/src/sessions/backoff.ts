/**
 * Reconnect delays: exponential with full jitter (DESIGN §3): attempt `n` waits a uniform
 * random time in `[0, min(cap, base · 2ⁿ))`. Full jitter spreads many daemons (or many
 * sessions of one daemon) reconnecting after the same outage instead of synchronising them.
 */

/** Options of {@link createBackoff}. */
export interface BackoffOptions {
  /** First ceiling in ms (default 1 s). */
  baseMs?: number;
  /** Largest ceiling in ms (default 60 s). */
  capMs?: number;
  /** Uniform random in `[0, 1)` (injectable for tests; default `Math.random`). */
  random?: () => number;
}

/** Default reconnect backoff: base 1 s, cap 60 s. */
export const DEFAULT_BACKOFF = { baseMs: 1_000, capMs: 60_000 } as const;

/** How long a connection must stay open before the backoff resets (DESIGN §3: a stable minute). */
export const STABLE_CONNECTION_MS = 60_000;

/** A reconnect backoff. */
export interface Backoff {
  /** Consecutive attempts since the last reset. */
  readonly attempts: number;
  /** The delay before the next attempt (ms), counting it as an attempt. */
  next(): number;
  /** The ceiling the next call to {@link next} draws under (ms). */
  ceiling(): number;
  /** Back to the first attempt (after a stable connection). */
  reset(): void;
}

/** Creates an exponential backoff with full jitter. */
export function createBackoff(options: BackoffOptions = {}): Backoff {
  const baseMs = options.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const capMs = options.capMs ?? DEFAULT_BACKOFF.capMs;
  const random = options.random ?? Math.random;
  let attempts = 0;
  const ceiling = () => Math.min(capMs, baseMs * 2 ** Math.min(attempts, 30));
  return {
    get attempts() {
      return attempts;
    },
    ceiling,
    next() {
      const delay = Math.floor(random() * ceiling());
      attempts += 1;
      return delay;
    },
    reset() {
      attempts = 0;
    },
  };
}
