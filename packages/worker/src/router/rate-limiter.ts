import { createTokenBuckets } from '@stickerbot/runtime';

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

/** Warned senders kept before those whose bucket refilled are dropped. */
const MAX_WARNED = 1_000;

/** Creates a {@link RateLimiter}; full buckets are dropped (see the runtime's token buckets). */
export function createRateLimiter(options: RateLimitOptions, now: () => number = Date.now): RateLimiter {
  const buckets = createTokenBuckets(options);
  // Senders told to slow down since their last allowed command.
  const warned = new Set<string>();
  return {
    take(key) {
      const at = now();
      if (buckets.level(key, at) >= 1) {
        buckets.spend(key, at);
        warned.delete(key);
        return 'allow';
      }
      if (warned.has(key)) return 'silent';
      // A sender whose bucket refilled would be allowed (and forgotten) on their next command.
      if (warned.size >= MAX_WARNED) for (const other of warned) if (buckets.level(other, at) >= 1) warned.delete(other);
      warned.add(key);
      return 'warn';
    },
  };
}
