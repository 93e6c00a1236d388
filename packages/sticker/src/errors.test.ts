import { describe, expect, it } from 'vitest';
import { STICKER_ERROR_CODES, StickerError } from './errors.js';

describe('error codes', () => {
  it('documents every code with a sentence and includes the agreed ones', () => {
    for (const [code, text] of Object.entries(STICKER_ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z_]+$/);
      expect(text.length).toBeGreaterThan(10);
    }
    for (const code of ['EMPTY_INPUT', 'UNSUPPORTED_FORMAT', 'CORRUPT_INPUT', 'INPUT_TOO_LARGE', 'TOO_MANY_PIXELS', 'VIDEO_TOO_LONG',
      'NO_VIDEO_STREAM', 'OVER_SIZE_BUDGET', 'TIMEOUT', 'ABORTED', 'FFMPEG_FAILED', 'NOT_A_STICKER', 'CLOSED']) {
      expect(STICKER_ERROR_CODES).toHaveProperty(code);
    }
  });

  it('carries its code, cause and details', () => {
    const cause = new Error('root');
    const err = new StickerError('TIMEOUT', 'slow', { cause, details: { pid: 1 } });
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'StickerError', code: 'TIMEOUT', cause, details: { pid: 1 } });
  });
});
