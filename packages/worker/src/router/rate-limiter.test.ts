import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limiter.js';

describe('per-sender token bucket', () => {
  it('allows a burst, warns once, then stays silent until a token is back', () => {
    let now = 0;
    const limiter = createRateLimiter({ capacity: 3, refillPerSecond: 1 }, () => now);
    expect([1, 2, 3, 4, 5].map(() => limiter.take('a'))).toEqual(['allow', 'allow', 'allow', 'warn', 'silent']);
    expect(limiter.take('b')).toBe('allow');
    now += 1000;
    expect(limiter.take('a')).toBe('allow');
    expect(limiter.take('a')).toBe('warn');
  });
});
