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

  it('tells apart two animations with the same first frame, and finds a re-encoded one', async () => {
    const size = 128;
    const frame = (svgBody: string) => sharp(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="100%" height="100%" fill="black"/>${svgBody}</svg>`)).ensureAlpha().raw().toBuffer();
    const animation = async (bodies: string[], quality = 80) =>
      sharp(Buffer.concat(await Promise.all(bodies.map(frame))), { raw: { width: size, height: size * bodies.length, channels: 4, pageHeight: size } })
        .webp({ quality, loop: 0, delay: bodies.map(() => 100) })
        .toBuffer();
    const left = ['', '<circle cx="30" cy="64" r="25" fill="white"/>', '<rect x="0" y="0" width="60" height="128" fill="#ccc"/>', '<circle cx="30" cy="30" r="20" fill="yellow"/>'];
    const right = ['', '<circle cx="98" cy="64" r="25" fill="white"/>', '<rect x="68" y="0" width="60" height="128" fill="#ccc"/>', '<circle cx="98" cy="98" r="20" fill="yellow"/>'];
    const [a, aAgain, b] = await Promise.all([animation(left).then(perceptualHash), animation(left, 30).then(perceptualHash), animation(right).then(perceptualHash)]);
    expect(hammingDistance(a, aAgain)).toBeLessThanOrEqual(3);
    expect(hammingDistance(a, b)).toBeGreaterThan(10);
  });

  it('counts differing bits', () => {
    expect(hammingDistance('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(hammingDistance('00000000000000f0', '0000000000000010')).toBe(3);
  });
});
