import { describe, expect, it } from 'vitest';
import { planFrames } from './animation-sticker.js';

describe('planFrames', () => {
  it('gives zero and too-short delays the 100 ms viewers show', () => {
    expect(planFrames({ width: 1, pageHeight: 1, pages: 3, delay: [0, 5, 40] }, 100)).toEqual([
      { index: 0, delayMs: 100 },
      { index: 1, delayMs: 100 },
      { index: 2, delayMs: 40 },
    ]);
  });

  it('stops before the total passes 10 s', () => {
    const frames = planFrames({ width: 1, pageHeight: 1, pages: 30, delay: Array.from({ length: 30 }, () => 400) }, 100);
    expect(frames).toHaveLength(25);
    expect(frames.reduce((sum, f) => sum + f.delayMs, 0)).toBe(10_000);
  });

  it('merges runs of very short frames to keep the frame rate near the cap, keeping the timing', () => {
    const frames = planFrames({ width: 1, pageHeight: 1, pages: 60, delay: Array.from({ length: 60 }, () => 20) }, 10);
    expect(frames.length).toBeLessThanOrEqual(16);
    expect(frames.reduce((sum, f) => sum + f.delayMs, 0)).toBe(1200);
    expect(frames.every((f) => f.delayMs >= 60)).toBe(true);
  });
});
