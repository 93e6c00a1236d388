import { describe, expect, it } from 'vitest';
import { checkAnimationCost, framesStartedWithin, gifFrameMs, webpFrameMs } from './animation-limits.js';

const limits = { maxInputPixels: 100_000_000, maxAnimationPixels: 1_000_000_000 };

describe('frame times as viewers play them', () => {
  it('plays GIF delays of 0 and 1 cs as 100 ms and keeps 2 cs and longer', () => {
    expect([0, 1, 2, 3, 10, 150].map(gifFrameMs)).toEqual([100, 100, 20, 30, 100, 1500]);
  });

  it('plays WebP frames under 8 ms as 100 ms and keeps 8 ms and longer', () => {
    expect([0, 7, 8, 40].map(webpFrameMs)).toEqual([100, 100, 8, 40]);
  });
});

describe('checkAnimationCost', () => {
  it('counts only the frames that start within the clip', () => {
    expect(framesStartedWithin([100, 100, 100, 100], 250)).toBe(3);
    expect(framesStartedWithin(Array.from({ length: 5000 }, () => 20), 9900)).toBe(495);
    expect(framesStartedWithin([], 9900)).toBe(0);
  });

  it('refuses a canvas over maxInputPixels whatever the frames, and canvas × frames over maxAnimationPixels', () => {
    expect(() => checkAnimationCost({ width: 16_000, height: 16_000 }, [100], limits)).toThrow(expect.objectContaining({ code: 'TOO_MANY_PIXELS' }));
    expect(() => checkAnimationCost({ width: 4000, height: 4000 }, Array.from({ length: 100 }, () => 100), limits)).toThrow(
      expect.objectContaining({ code: 'TOO_MANY_PIXELS', details: { width: 4000, height: 4000, frames: 99 } }),
    );
    expect(() => checkAnimationCost({ width: 1920, height: 1080 }, Array.from({ length: 300 }, () => 100), limits)).not.toThrow();
    // toImage counts every frame, not only a sticker's 10 s.
    expect(() => checkAnimationCost({ width: 1920, height: 1080 }, Array.from({ length: 600 }, () => 100), limits, Number.POSITIVE_INFINITY)).toThrow();
  });
});
