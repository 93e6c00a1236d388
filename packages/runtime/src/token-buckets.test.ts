import { describe, expect, it } from 'vitest';
import { createTokenBuckets } from './token-buckets.js';

describe('token buckets', () => {
  it('lets a key spend its capacity, refills it over time and keeps keys apart', () => {
    const buckets = createTokenBuckets({ capacity: 2, refillPerSecond: 0.5 });
    expect(buckets.level('a', 0)).toBe(2);
    buckets.spend('a', 0);
    buckets.spend('a', 0);
    expect(buckets.level('a', 0)).toBe(0);
    expect(buckets.level('b', 0)).toBe(2);
    expect(buckets.level('a', 1_000)).toBe(0.5);
    expect(buckets.level('a', 10_000)).toBe(2);
    // A clock that goes back refills nothing and takes nothing.
    expect(buckets.level('a', -5_000)).toBe(0);
  });

  it('drops full buckets once more keys than pruneAbove are tracked, keeping the others', () => {
    const buckets = createTokenBuckets({ capacity: 1, refillPerSecond: 1, pruneAbove: 2 });
    buckets.spend('old', 0);
    buckets.spend('recent', 5_000);
    buckets.spend('now', 5_500);
    // 'old' was full again and may go; 'recent' and 'now' are not full and must stay.
    expect(buckets.level('old', 5_500)).toBe(1);
    expect(buckets.level('recent', 5_500)).toBe(0.5);
    expect(buckets.level('now', 5_500)).toBe(0);
  });
});
