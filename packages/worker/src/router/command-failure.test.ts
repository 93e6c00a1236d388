import { createStickerEngine, STICKER_ERROR_CODES, StickerError, type StickerErrorCode } from '@stickerbot/sticker';
import { describe, expect, it } from 'vitest';
import { ConverterCrashedError } from '../media/sticker-pool.js';
import { describeFailure } from './command-failure.js';

const MAX_MEDIA = 16 * 1024 * 1024;

describe('describeFailure for sticker errors', () => {
  it('gives every sticker error code its own plain words, never the code or ffmpeg', () => {
    for (const code of Object.keys(STICKER_ERROR_CODES) as StickerErrorCode[]) {
      const words = describeFailure(new StickerError(code, 'ffmpeg exited with 1: [gif @ 0x1] Picture size 30000x30000 is invalid'), MAX_MEDIA);
      expect(words, code).not.toMatch(/ffmpeg|_|0x|exited|Something went wrong/i);
      expect(words.length, code).toBeGreaterThan(10);
    }
  });

  it('tells a user who sent a GIF bomb that it is too big, from the engine’s real refusal', async () => {
    const engine = createStickerEngine();
    // A 16,000×16,000 logical screen around one 1×1 frame, 2 frames: 60 bytes that decode to gigabytes.
    const gif = Buffer.concat([
      Buffer.from('GIF89a', 'latin1'),
      Buffer.from([0x80, 0x3e, 0x80, 0x3e, 0x80, 0, 0, 0, 0, 0, 255, 255, 255]),
      ...[0, 1].map(() => Buffer.from([0x21, 0xf9, 4, 0, 2, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0])),
      Buffer.from([0x3b]),
    ]);
    const error = await engine.toSticker(gif).then(
      () => undefined,
      (err: unknown) => err,
    );
    await engine.close();
    expect(error).toMatchObject({ code: 'TOO_MANY_PIXELS' });
    expect(describeFailure(error, MAX_MEDIA)).toMatch(/too big/);
  });

  it('tells the user when the converter crashed on their file, without the signal', () => {
    const words = describeFailure(new ConverterCrashedError('the converter (pid 7) ended with SIGSEGV while running the job', { signal: 'SIGSEGV' }), MAX_MEDIA);
    expect(words).toMatch(/crashed on that file/);
    expect(words).not.toMatch(/SIGSEGV|pid/);
  });
});
