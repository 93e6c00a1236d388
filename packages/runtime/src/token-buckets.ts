/**
 * Keyed token buckets: each key may spend `capacity` tokens at once and regains
 * `refillPerSecond`. A key with no bucket is full; a bucket full again is the same as none,
 * so full ones are dropped once more than `pruneAbove` keys are tracked. The worker's
 * per-sender rate limit and the daemon's reply budget both count with them.
 */

/** Sizes of {@link createTokenBuckets}. */
export interface TokenBucketOptions {
  /** Tokens a key may spend back to back. */
  capacity: number;
  /** Tokens a key regains per second. */
  refillPerSecond: number;
  /** Keys kept before full buckets are dropped (default 1,000). */
  pruneAbove?: number;
}

/** Token buckets by key (see {@link createTokenBuckets}). */
export interface TokenBuckets {
  /** The tokens `key` has at `at` (ms), `capacity` for a key never spent. */
  level(key: string, at: number): number;
  /** Spends one token of `key` at `at` (its level may go below 1: call after {@link level}). */
  spend(key: string, at: number): void;
}

/** Creates {@link TokenBuckets}. */
export function createTokenBuckets(options: TokenBucketOptions): TokenBuckets {
  const { capacity, refillPerSecond } = options;
  const pruneAbove = options.pruneAbove ?? 1_000;
  const buckets = new Map<string, { tokens: number; at: number }>();

  function level(key: string, at: number): number {
    const bucket = buckets.get(key);
    if (!bucket) return capacity;
    return Math.min(capacity, bucket.tokens + (Math.max(0, at - bucket.at) * refillPerSecond) / 1000);
  }

  return {
    level,
    spend(key, at) {
      buckets.set(key, { tokens: level(key, at) - 1, at });
      if (buckets.size <= pruneAbove) return;
      for (const other of buckets.keys()) if (level(other, at) >= capacity) buckets.delete(other);
    },
  };
}
