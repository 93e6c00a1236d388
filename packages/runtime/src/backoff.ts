/**
 * Reconnect delays, the daemon's sessions and the worker's bridge client alike: exponential
 * with full jitter (DESIGN §3). Attempt `n` (from 0) waits a uniform random time in
 * `[0, min(cap, base · 2ⁿ))`. Full jitter spreads many daemons, sessions or workers
 * reconnecting after the same outage instead of synchronising them.
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

/** Default reconnect backoff (DESIGN §3): base 1 s, cap 60 s. */
export const DEFAULT_BACKOFF = { baseMs: 1_000, capMs: 60_000 } as const;

/** A reconnect backoff. */
export interface Backoff {
  /** Consecutive attempts since the last reset. */
  readonly attempts: number;
  /** The delay before the next attempt (ms), counting it as an attempt. */
  next(): number;
  /** The ceiling the next call to {@link next} draws under (ms). */
  ceiling(): number;
  /** Back to the first attempt (after a connection that held). */
  reset(): void;
}

/** Creates an exponential backoff with full jitter. */
export function createBackoff(options: BackoffOptions = {}): Backoff {
  const baseMs = options.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const capMs = options.capMs ?? DEFAULT_BACKOFF.capMs;
  const random = options.random ?? Math.random;
  let attempts = 0;
  // 2³⁰ already passes any sensible cap; the exponent stops there so the ceiling stays finite.
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
