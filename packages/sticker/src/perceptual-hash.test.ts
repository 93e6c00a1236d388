import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { makeJpeg, makePngWithAlpha } from './test-kit/sample-media.js';
import { hammingDistance, perceptualHash } from './perceptual-hash.js';

describe('perceptualHash', () => {
  it('gives a re-encoded, resized copy a hash within a few bits, and another picture a far one', async () => {
    const photo = await makeJpeg(400, 300);
    const copy = await sharp(photo).resize(200, 150).webp({ quality: 40 }).toBuffer();
    const other = await makePngWithAlpha(400, 300);
    const [a, b, c] = await Promise.all([perceptualHash(photo), perceptualHash(copy), perceptualHash(other)]);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(hammingDistance(a, b)).toBeLessThanOrEqual(3);
    expect(hammingDistance(a, c)).toBeGreaterThan(10);
  });

  it('counts differing bits', () => {
    expect(hammingDistance('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(hammingDistance('00000000000000f0', '0000000000000010')).toBe(3);
  });
});
