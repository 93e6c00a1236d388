import { describe, expect, it } from 'vitest';
import { firstPlan, MAX_CLIP_SECONDS, secondPlan } from './animation-plan.js';

describe('animation plan', () => {
  it('clips long inputs to just under 10 s and gives short clips more frames per second', () => {
    expect(firstPlan(3600, 30).seconds).toBe(MAX_CLIP_SECONDS);
    expect(firstPlan(undefined, undefined).seconds).toBe(MAX_CLIP_SECONDS);
    expect(firstPlan(2, 30).fps).toBeGreaterThan(firstPlan(9, 30).fps);
    expect(firstPlan(2, 5).fps).toBe(5);
  });

  it('predicts a second pass whose modelled size fits the budget', () => {
    const first = firstPlan(9.9, 30);
    for (const bytes of [600_000, 1_000_000, 3_000_000]) {
      const second = secondPlan(first, bytes, 500_000);
      const modelled =
        bytes * ((second.quality + 23.5) / (first.quality + 23.5)) * (second.fps / first.fps) * (second.side / first.side) ** 2;
      expect(second.fps).toBeLessThanOrEqual(first.fps);
      expect(second.quality).toBeLessThan(first.quality);
      expect(modelled).toBeLessThanOrEqual(500_000 * 0.85 * 1.25);
    }
  });
});
