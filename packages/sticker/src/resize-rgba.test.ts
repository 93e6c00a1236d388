import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createResizer, unionRegion } from './resize-rgba.js';

/** A premultiplied canvas (opaque or all-zero pixels, as a GIF's are) of a smooth pattern with a transparent hole. */
function canvas(width: number, height: number, seed: number): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const hole = x > width / 3 && x < width / 2 && y > height / 4 && y < height / 2;
      if (!hole) data.set([(x * 3 + seed) % 256, (y * 5) % 256, (x + y + seed) % 256, 255], (y * width + x) * 4);
    }
  }
  return data;
}

describe('createResizer', () => {
  for (const [label, target] of [
    ['enlarging', { width: 512, height: 384 }],
    ['shrinking by 3× and more (box shrink first)', { width: 90, height: 40 }],
  ] as const) {
    it(`${label}: resizing only a changed part gives what a whole resize gives`, () => {
      const width = 300;
      const height = 200;
      const region = { x: 0, y: 0, width, height };
      const before = canvas(width, height, 0);
      const after = Buffer.from(before);
      const changed = { x: 40, y: 30, width: 25, height: 17 };
      for (let y = changed.y; y < changed.y + changed.height; y += 1) after.fill(0, (y * width + changed.x) * 4, (y * width + changed.x + changed.width) * 4);
      const partial = Buffer.alloc(target.width * target.height * 4);
      const resizer = createResizer(region, target);
      resizer.resize({ data: before, width, height }, partial);
      resizer.resize({ data: after, width, height }, partial, changed);
      const whole = Buffer.alloc(partial.length);
      createResizer(region, target).resize({ data: after, width, height }, whole);
      expect(partial.equals(whole)).toBe(true);
      const unchanged = Buffer.alloc(partial.length);
      createResizer(region, target).resize({ data: before, width, height }, unchanged);
      expect(partial.equals(unchanged)).toBe(false);
    });
  }

  it('copies repeated rows exactly: flat bands, a dithered picture and a changed part give what a full computation gives', () => {
    const width = 300;
    const height = 200;
    // Bands of flat colour with a transparent hole and a square across some of them, rows that differ in one pixel, then noise.
    const banded = Buffer.alloc(width * height * 4);
    let seed = 1;
    for (let y = 0; y < height; y += 1) {
      for (let x = 0; x < width; x += 1) {
        const p = (y * width + x) * 4;
        if (y >= 150) {
          seed = (seed * 1103515245 + 12345) >>> 0;
          banded.set([seed >>> 24, (seed >>> 16) & 255, (seed >>> 8) & 255, 255], p);
        } else if (y >= 120 && y % 3 === 0 && x === 250) {
          // Rows that differ from their neighbours in one pixel only.
          banded.set([250, 120, 60, 255], p);
        } else if (!(x > 100 && x < 140 && y > 60 && y < 90)) {
          banded.set(x > 30 && x < 90 && y > 40 && y < 120 ? [20, 30, 40, 255] : [y < 70 ? 200 : 90, 120, 60, 255], p);
        }
      }
    }
    const region = { x: 0, y: 0, width, height };
    for (const target of [{ width: 512, height: 341 }, { width: 280, height: 190 }, { width: 90, height: 40 }]) {
      const reused = Buffer.alloc(target.width * target.height * 4);
      const computed = Buffer.alloc(reused.length);
      const reusing = createResizer(region, target);
      const computing = createResizer(region, target, { reuseRows: false });
      reusing.resize({ data: banded, width, height }, reused);
      computing.resize({ data: banded, width, height }, computed);
      expect(reused.equals(computed)).toBe(true);
      // A changed part that starts and ends inside flat bands.
      const after = Buffer.from(banded);
      for (let y = 50; y < 100; y += 1) after.fill(255, (y * width + 10) * 4, (y * width + 200) * 4);
      const changed = { x: 10, y: 50, width: 190, height: 50 };
      reusing.resize({ data: after, width, height }, reused, changed);
      computing.resize({ data: after, width, height }, computed, changed);
      expect(reused.equals(computed)).toBe(true);
      expect(reused.equals(Buffer.alloc(reused.length))).toBe(false);
    }
  });

  it('stays close to libvips on the same picture, transparency edges included (straight alpha out)', async () => {
    const width = 240;
    const height = 180;
    const data = canvas(width, height, 7);
    for (const target of [{ width: 512, height: 384 }, { width: 60, height: 45 }]) {
      const out = Buffer.alloc(target.width * target.height * 4);
      createResizer({ x: 0, y: 0, width, height }, target).resize({ data, width, height }, out);
      const reference = await sharp(data, { raw: { width, height, channels: 4 } }).resize(target.width, target.height, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
      let sum = 0;
      for (let i = 0; i < out.length; i += 1) sum += Math.abs(out[i]! - reference[i]!);
      expect(sum / out.length).toBeLessThan(3);
    }
  });

  it('reads only its region (a centred square for a cover crop)', () => {
    const data = canvas(30, 10, 0);
    const out = Buffer.alloc(10 * 10 * 4);
    createResizer({ x: 10, y: 0, width: 10, height: 10 }, { width: 10, height: 10 }).resize({ data, width: 30, height: 10 }, out);
    for (let y = 0; y < 10; y += 1) expect(out.subarray(y * 40, y * 40 + 40).equals(data.subarray((y * 30 + 10) * 4, (y * 30 + 20) * 4))).toBe(true);
  });
});

describe('unionRegion', () => {
  it('joins two rectangles and ignores empty ones', () => {
    expect(unionRegion({ x: 2, y: 3, width: 4, height: 1 }, { x: 0, y: 5, width: 1, height: 2 })).toEqual({ x: 0, y: 3, width: 6, height: 4 });
    expect(unionRegion(undefined, { x: 1, y: 1, width: 0, height: 3 })).toBeUndefined();
    expect(unionRegion({ x: 1, y: 1, width: 2, height: 2 }, undefined)).toEqual({ x: 1, y: 1, width: 2, height: 2 });
  });
});
