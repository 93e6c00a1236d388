import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { squareWebp, webpAnimationBytes } from '../test/fixtures.js';
import { makeAnimatedWebp } from './test-kit/index.js';
import { parseWebp } from './webp-container.js';
import { webpCanvases } from './webp-frames.js';

/** Every canvas as libvips (libwebp's WebPAnimDecoder) composes it. */
async function libvipsCanvases(webp: Buffer): Promise<Buffer[]> {
  const { data, info } = await sharp(webp, { animated: true }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const pages = parseWebp(webp).frames.length;
  const frameBytes = (info.width * info.height * 4) / pages;
  return Array.from({ length: pages }, (_, i) => data.subarray(i * frameBytes, (i + 1) * frameBytes));
}

async function ours(webp: Buffer): Promise<Buffer[]> {
  const canvases: Buffer[] = [];
  for await (const { rgba } of webpCanvases(webp, parseWebp(webp))) canvases.push(Buffer.from(rgba));
  return canvases;
}

function maxDifference(a: Buffer, b: Buffer): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i += 1) {
    // Fully transparent pixels may keep any colour.
    if (i % 4 !== 3 && a[i - (i % 4) + 3] === 0 && b[i - (i % 4) + 3] === 0) continue;
    max = Math.max(max, Math.abs(a[i]! - b[i]!));
  }
  return max;
}

describe('webpCanvases', () => {
  it('composes the canvases libwebp composes, for an animation written by libwebp’s own encoder', async () => {
    const webp = await makeAnimatedWebp(96, 64, [100, 80, 120, 100, 60]);
    const [expected, actual] = await Promise.all([libvipsCanvases(webp), ours(webp)]);
    expect(actual).toHaveLength(5);
    actual.forEach((canvas, i) => expect(maxDifference(canvas, expected[i]!), `frame ${i}`).toBeLessThanOrEqual(1));
  });

  it('blends, replaces and disposes sub-frames by their ANMF flags, with and without alpha', async () => {
    const red = await squareWebp(32, { r: 255, g: 0, b: 0, alpha: 1 }, true);
    const halfBlue = await squareWebp(32, { r: 0, g: 0, b: 255, alpha: 0.5 }, true);
    const halfGreenLossy = await squareWebp(32, { r: 0, g: 200, b: 0, alpha: 0.5 }, false);
    const webp = webpAnimationBytes({ width: 64, height: 64 }, [
      { still: red, x: 0, y: 0, durationMs: 100, blend: false, dispose: false },
      { still: halfBlue, x: 16, y: 16, durationMs: 100, blend: true, dispose: true },
      { still: halfGreenLossy, x: 32, y: 32, durationMs: 100, blend: false, dispose: false },
      { still: halfBlue, x: 0, y: 32, durationMs: 100, blend: true, dispose: false },
    ]);
    const [expected, actual] = await Promise.all([libvipsCanvases(webp), ours(webp)]);
    expect(actual).toHaveLength(4);
    actual.forEach((canvas, i) => expect(maxDifference(canvas, expected[i]!), `frame ${i}`).toBeLessThanOrEqual(2));
  });

  it('refuses a frame that lies outside the canvas as CORRUPT_INPUT', async () => {
    const red = await squareWebp(32, { r: 255, g: 0, b: 0, alpha: 1 }, true);
    const webp = webpAnimationBytes({ width: 40, height: 40 }, [{ still: red, x: 16, y: 0, durationMs: 100, blend: false, dispose: false }]);
    await expect(ours(webp)).rejects.toMatchObject({ code: 'CORRUPT_INPUT' });
  });
});
