import { describe, expect, it } from 'vitest';
import { fairShare, preferenceOrder } from './partition-leases.js';
import { partitionOf } from './partition-of.js';

describe('fairShare', () => {
  it('gives every partition to exactly one share, the first P mod n consumers one more', () => {
    for (const live of [['a'], ['a', 'b'], ['c', 'a', 'b'], ['a', 'b', 'c', 'd', 'e', 'f', 'g']]) {
      const shares = live.map((id) => fairShare(live, 16, id));
      expect(shares.reduce((sum, n) => sum + n, 0)).toBe(16);
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
    }
    expect(['a', 'b', 'c'].map((id) => fairShare(['c', 'b', 'a'], 16, id))).toEqual([6, 5, 5]);
    expect(fairShare(['a', 'b'], 16, 'z')).toBe(0);
  });
});

describe('preferenceOrder', () => {
  it('visits every partition once, from a start that depends on the consumer', () => {
    const order = preferenceOrder('worker-1', 16);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    const starts = new Set(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => preferenceOrder(id, 16)[0]));
    expect(starts.size).toBeGreaterThan(1);
  });
});

describe('partitionOf', () => {
  it('is stable, within range, and spreads chats over the partitions', () => {
    expect(partitionOf('default', '491511111111@s.whatsapp.net', 16)).toBe(partitionOf('default', '491511111111@s.whatsapp.net', 16));
    const used = new Set(Array.from({ length: 200 }, (_, i) => partitionOf('default', `4915${i}@s.whatsapp.net`, 16)));
    expect(used.size).toBe(16);
    expect(Math.max(...used)).toBeLessThan(16);
    expect(partitionOf('a', 'x', 1)).toBe(0);
  });
});
