import { describe, expect, it } from 'vitest';
import { giveBack, keptBufferBytes, takeBuffer, takeZeroed } from './buffer-pool.js';

describe('buffer pool', () => {
  it('hands a given-back buffer to the next taker of that size, zeroed on request', () => {
    const first = takeBuffer(4096 + 3);
    first.fill(7);
    giveBack([first, first]);
    expect(keptBufferBytes()).toBe(4096 + 3);
    const again = takeZeroed(4096 + 3);
    expect(again).toBe(first);
    expect(again.every((byte) => byte === 0)).toBe(true);
    expect(keptBufferBytes()).toBe(0);
    expect(takeBuffer(4096 + 3)).not.toBe(first);
  });

  it('keeps no views of other memory, and a size over the cap evicts the other sizes', () => {
    const parent = takeBuffer(8192);
    giveBack([parent.subarray(0, 4096)]);
    expect(keptBufferBytes()).toBe(0);
    const small = [takeBuffer(1000), takeBuffer(1000)];
    giveBack(small);
    expect(keptBufferBytes()).toBe(2000);
    const big = Array.from({ length: 16 }, () => takeBuffer(1024 * 1024));
    giveBack(big);
    // 16 MiB in all: the small ones made room; one more of the same size does not fit.
    expect(keptBufferBytes()).toBe(16 * 1024 * 1024);
    const extra = Buffer.allocUnsafeSlow(1024 * 1024);
    giveBack([extra]);
    expect(keptBufferBytes()).toBe(16 * 1024 * 1024);
    expect(takeBuffer(1000)).not.toBe(small[0]);
    const taken = Array.from({ length: 16 }, () => takeBuffer(1024 * 1024));
    expect(new Set(taken).size).toBe(16);
    expect(taken.every((b) => big.includes(b))).toBe(true);
    expect(taken).not.toContain(extra);
    expect(keptBufferBytes()).toBe(0);
    // The newest size wins: a buffer of another size evicts what is kept.
    giveBack(taken);
    const other = takeBuffer(3 * 1024 * 1024);
    giveBack([other]);
    expect(keptBufferBytes()).toBe(3 * 1024 * 1024);
    expect(takeBuffer(3 * 1024 * 1024)).toBe(other);
  });
});
