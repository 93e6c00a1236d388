import { describe, expect, it } from 'vitest';
import { fitPlacement } from './gif-sticker.js';

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
