/** Token bucket parameters. */
export interface RateLimitOptions {
  /** Burst size: how many commands a sender may send at once. */
  capacity: number;
  /** Tokens regained per second. */
  refillPerSecond: number;
}

/** What {@link RateLimiter.take} decided. */
export type RateDecision = 'allow' | 'warn' | 'silent';

/**
 * Per-sender token buckets. A sender over the limit gets one `warn` (the router answers
 * with a friendly "slow down"), then `silent` until a token is back.
 */
export interface RateLimiter {
  take(key: string): RateDecision;
}

/** Creates a {@link RateLimiter}; idle buckets are dropped once full again. */
export function createRateLimiter(options: RateLimitOptions, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number; warned: boolean }>();
  let lastSweep = now();

  function sweep(at: number): void {
    if (at - lastSweep < 60_000) return;
    lastSweep = at;
    for (const [key, bucket] of buckets) {
      if (bucket.tokens + ((at - bucket.at) / 1000) * options.refillPerSecond >= options.capacity) buckets.delete(key);
    }
  }

  return {
    take(key) {
      const at = now();
      sweep(at);
      const bucket = buckets.get(key) ?? { tokens: options.capacity, at, warned: false };
      bucket.tokens = Math.min(options.capacity, bucket.tokens + ((at - bucket.at) / 1000) * options.refillPerSecond);
      bucket.at = at;
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        bucket.warned = false;
        return 'allow';
      }
      if (bucket.warned) return 'silent';
      bucket.warned = true;
      return 'warn';
    },
  };
}
