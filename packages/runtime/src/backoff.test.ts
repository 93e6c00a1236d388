import { describe, expect, it } from 'vitest';
import { createBackoff } from './backoff.js';

describe('createBackoff', () => {
  it('doubles the ceiling from 1 s up to the 60 s cap by default', () => {
    const backoff = createBackoff({ random: () => 0.999999 });
    const delays = Array.from({ length: 9 }, () => backoff.next());
    expect(delays).toEqual([999, 1999, 3999, 7999, 15999, 31999, 59999, 59999, 59999]);
    expect(backoff.attempts).toBe(9);
  });

  it('takes the base and cap it is given (the worker reconnects sooner)', () => {
    const backoff = createBackoff({ baseMs: 500, capMs: 30_000, random: () => 0.999999 });
    const ceilings: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      ceilings.push(backoff.ceiling());
      backoff.next();
    }
    expect(ceilings).toEqual([500, 1000, 2000, 4000]);
    for (let i = 0; i < 50; i += 1) backoff.next();
    expect(backoff.ceiling()).toBe(30_000);
    expect(backoff.next()).toBe(29_999);
  });

  it('draws uniformly under the ceiling (full jitter)', () => {
    const values = [0, 0.5, 0.25];
    const backoff = createBackoff({ random: () => values.shift() ?? 0 });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([0, 1000, 1000]);
  });

  it('starts over after a reset', () => {
    const backoff = createBackoff({ random: () => 0.5 });
    backoff.next();
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.next()).toBe(500);
  });
});
