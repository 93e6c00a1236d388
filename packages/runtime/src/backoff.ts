/** Exponential backoff parameters. */
export interface BackoffOptions {
  /** First delay's upper bound, in ms. */
  baseMs: number;
  /** Largest delay, in ms. */
  capMs: number;
}

/**
 * Exponential backoff with full jitter: a random delay in `[0, min(cap, base·2^attempt)]`
 * (attempt 0 is the first retry). Jitter keeps a fleet of restarted workers from
 * reconnecting in lockstep; `random` is injectable for tests.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.round(random() * ceiling);
}
