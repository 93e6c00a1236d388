import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createStickerEngine, parseWebp } from '../src/index.js';
import { numberedGif, readFrameNumber } from './fixtures.js';

/** Which source frame number a sticker shows from when, read back from its pixels. */
async function shownNumbers(webp: Buffer): Promise<Array<{ startMs: number; number: number }>> {
  const container = parseWebp(webp);
  const { data } = await sharp(webp, { animated: true, pages: -1 }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const frameBytes = 512 * 512 * 4;
  let startMs = 0;
  return container.frames.map((frame, i) => {
    const shown = { startMs, number: readFrameNumber(data.subarray(i * frameBytes, (i + 1) * frameBytes)) };
    startMs += frame.durationMs;
    return shown;
  });
}

/** The number on screen at `t` ms. */
function numberAt(shown: Array<{ startMs: number; number: number }>, t: number): number {
  return shown.filter((s) => s.startMs <= t).at(-1)!.number;
}

// GIFs are decoded in process: no ffmpeg takes part, so one run covers every install.
describe('GIF frame timing', () => {
  it('plays 1 cs delays as 10 cs, as browsers do: frame k at k·100 ms, the first 9.9 s of the 20 s timeline', async () => {
    const engine = createStickerEngine();
    try {
      const sticker = await engine.toSticker(numberedGif(200, 1));
      expect(sticker.durationMs).toBeGreaterThanOrEqual(9800);
      expect(sticker.durationMs).toBeLessThanOrEqual(10_000);
      const shown = await shownNumbers(sticker.data);
      for (let t = 0; t < 9800; t += 50) {
        expect(Math.abs(numberAt(shown, t) - Math.floor(t / 100)), `at ${t} ms`).toBeLessThanOrEqual(1);
      }
      // Nearly every source frame of the clip is on screen at some point (none dropped wholesale).
      expect(new Set(shown.map((s) => s.number)).size).toBeGreaterThanOrEqual(95);
    } finally {
      await engine.close();
    }
  });

  it('plays 0 cs delays as 10 cs and keeps 2 cs delays as 20 ms', async () => {
    const engine = createStickerEngine();
    try {
      const zero = await engine.toSticker(numberedGif(20, 0));
      expect(zero.durationMs).toBeGreaterThanOrEqual(1900);
      expect(zero.durationMs).toBeLessThanOrEqual(2100);
      const zeroShown = await shownNumbers(zero.data);
      for (let t = 0; t < 1900; t += 50) expect(Math.abs(numberAt(zeroShown, t) - Math.floor(t / 100)), `at ${t} ms`).toBeLessThanOrEqual(1);

      // 50 frames of 20 ms: one second, sampled at the sticker's frame rate.
      const fast = await engine.toSticker(numberedGif(50, 2));
      expect(fast.durationMs).toBeGreaterThanOrEqual(950);
      expect(fast.durationMs).toBeLessThanOrEqual(1050);
      const fastShown = await shownNumbers(fast.data);
      for (const s of fastShown) expect(Math.abs(s.number - Math.floor(s.startMs / 20)), `at ${s.startMs} ms`).toBeLessThanOrEqual(2);
    } finally {
      await engine.close();
    }
  });
});
