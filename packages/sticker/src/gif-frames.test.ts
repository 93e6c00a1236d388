import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { gifBytes } from '../test/fixtures.js';
import { scanGif } from './gif-frames.js';

const W = 48;
const H = 32;

/** A 3-frame GIF written by libvips. */
async function gif(): Promise<Buffer> {
  const frames = 3;
  const raw = Buffer.alloc(W * H * frames * 4);
  for (let p = 0; p < W * H * frames; p += 1) raw.set([(p * 7) % 256, (Math.floor(p / (W * H)) * 80) % 256, 200, 255], p * 4);
  return sharp(raw, { raw: { width: W, height: H * frames, channels: 4, pageHeight: H } }).gif({ delay: [100, 100, 100] }).toBuffer();
}

describe('scanGif', () => {
  it('reads the screen, the frames, their delays and the extent of a GIF, and nothing from other bytes', async () => {
    const layout = scanGif(await gif());
    expect(layout).toMatchObject({ width: W, height: H, frames: 3 });
    expect(layout?.delaysCs).toEqual([10, 10, 10]);
    expect(layout?.extent).toEqual({ width: W, height: H });
    const spilling = gifBytes({ width: 10, height: 10 }, [{ left: 8, top: 6, width: 4, height: 4, pixels: new Uint8Array(16), delayCs: 1 }], [[0, 0, 0]]);
    expect(scanGif(spilling)).toMatchObject({ width: 10, height: 10, extent: { width: 12, height: 10 }, delaysCs: [1] });
    expect(scanGif(Buffer.from('not a gif at all'))).toBeUndefined();
    expect(scanGif(Buffer.alloc(0))).toBeUndefined();
  });
});
