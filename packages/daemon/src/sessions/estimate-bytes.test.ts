import { describe, expect, it } from 'vitest';
import { estimateBytes } from './estimate-bytes.js';

describe('estimateBytes', () => {
  it('counts binary data by its bytes and strings by their length', () => {
    expect(estimateBytes(Buffer.alloc(10_000))).toBeGreaterThanOrEqual(10_000);
    expect(estimateBytes(Buffer.alloc(10_000))).toBeLessThan(10_200);
    expect(estimateBytes('x'.repeat(5_000))).toBeGreaterThanOrEqual(5_000);
    expect(estimateBytes({ a: Buffer.alloc(1_000), b: ['y'.repeat(1_000)] })).toBeGreaterThan(2_000);
  });

  it('grows with the number of entries and counts a shared or cyclic reference once', () => {
    const one = estimateBytes([{ id: '4915@s.whatsapp.net' }]);
    const hundred = estimateBytes(Array.from({ length: 100 }, (_, i) => ({ id: `${i}@s.whatsapp.net` })));
    expect(hundred).toBeGreaterThan(50 * one);
    const shared = Buffer.alloc(4_096);
    expect(estimateBytes([shared, shared, shared])).toBeLessThan(2 * 4_096);
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(Number.isFinite(estimateBytes(cyclic))).toBe(true);
  });
});
