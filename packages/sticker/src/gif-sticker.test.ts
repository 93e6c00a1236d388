import { describe, expect, it } from 'vitest';
import { fitPlacement, sampleFrames } from './gif-sticker.js';

describe('fit placement of an unpadded picture', () => {
  it('centres the picture with its long side at the plan side and even size and offsets', () => {
    expect(fitPlacement({ width: 480, height: 360 }, 512)).toEqual({ x: 0, y: 64, width: 512, height: 384 });
    expect(fitPlacement({ width: 360, height: 480 }, 512)).toEqual({ x: 64, y: 0, width: 384, height: 512 });
    expect(fitPlacement({ width: 16, height: 16 }, 400)).toEqual({ x: 56, y: 56, width: 400, height: 400 });
    const sliver = fitPlacement({ width: 1000, height: 3 }, 512);
    expect(sliver.height).toBe(2);
    expect([sliver.x % 2, sliver.y % 2]).toEqual([0, 0]);
  });
});

describe('sampleFrames', () => {
  const plan = { start: 0, seconds: 3.2, fps: 10, quality: 45, side: 512 };

  it('shows at each sticker frame the GIF frame on screen half a frame time later', () => {
    // 40 frames of 80 ms: sticker frame n (at n·100 ms) shows the frame on screen at n·100 + 50 ms.
    const starts = Array.from({ length: 40 }, (_, k) => k * 80);
    const shown = sampleFrames(starts, plan);
    expect(shown).toHaveLength(32);
    expect(shown.slice(0, 6)).toEqual([0, 1, 3, 4, 5, 6]);
    shown.forEach((k, n) => expect(starts[k]! < n * 100 + 50 && (starts[k + 1] ?? Infinity) >= n * 100 + 50).toBe(true));
  });

  it('starts at the plan start (the sample pass) and holds the last frame to the end', () => {
    const starts = [0, 100, 200];
    expect(sampleFrames(starts, { ...plan, start: 0.1, seconds: 0.5 })).toEqual([1, 2, 2, 2, 2]);
    expect(sampleFrames(starts, { ...plan, seconds: 0.01 })).toEqual([0]);
  });
});
