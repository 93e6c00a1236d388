import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegFailure } from '../src/ffmpeg-failure.js';
import { isStickerError, type StickerErrorCode } from '../src/index.js';
import { probeMedia } from '../src/probe-media.js';
import { runProcess } from '../src/run-process.js';
import { makeAudioOnly, screenBombGif, testFfmpegs } from './fixtures.js';

let tempDir: string;

beforeAll(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'sticker-ffmpeg-failure-'));
});

afterAll(async () => {
  await rm(tempDir, { recursive: true, force: true });
});

/** What a chat user could be shown: no ffmpeg, no addresses, no filter or option names. */
function expectPlainWords(message: string): void {
  expect(message).not.toMatch(/ffmpeg|0x[0-9a-f]|@|\[|exited|filter|IMGUTILS/i);
}

async function failureOf(run: () => Promise<unknown>): Promise<{ code: StickerErrorCode; message: string; details: Readonly<Record<string, unknown>> }> {
  try {
    await run();
  } catch (err) {
    if (!isStickerError(err)) throw err;
    return { code: err.code, message: err.message, details: err.details };
  }
  throw new Error('expected a StickerError');
}

describe('ffmpegFailure', () => {
  it('keeps an unrecognised failure as FFMPEG_FAILED, with ffmpeg’s text in details and cause only', () => {
    const err = ffmpegFailure(1, '[mystery @ 0xdead] something odd happened\n');
    expect(err.code).toBe('FFMPEG_FAILED');
    expectPlainWords(err.message);
    expect(err.details.stderr).toContain('something odd happened');
    expect(String((err.cause as Error).message)).toContain('exited with 1');
  });

  it('reads running out of memory as TOO_MANY_PIXELS', () => {
    const err = ffmpegFailure(1, '[gif @ 0x1] Cannot allocate memory\nError while decoding stream #0:0: Cannot allocate memory\n');
    expect(err.code).toBe('TOO_MANY_PIXELS');
    expectPlainWords(err.message);
  });

  it('reads a missing decoder as UNSUPPORTED_FORMAT', () => {
    const err = ffmpegFailure(1, 'Decoder (codec av1) not found for input stream #0:0\n');
    expect(err.code).toBe('UNSUPPORTED_FORMAT');
    expectPlainWords(err.message);
  });
});

describe.each(testFfmpegs())('ffmpeg failures with %s, in plain words', (ffmpeg) => {
  it('a GIF screen ffmpeg refuses (30,000²) is TOO_MANY_PIXELS, not FFMPEG_FAILED with ffmpeg’s text', async () => {
    // The engine decodes GIFs itself and refuses this one from its header; ffmpeg still
    // decodes other media, and its words for a picture size it refuses are the same.
    const file = join(tempDir, 'screen.gif');
    await writeFile(file, screenBombGif(30_000, 30_000, 3));
    const result = await runProcess(ffmpeg, {
      args: ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgba', 'pipe:1'],
      timeoutMs: 30_000,
      maxStdoutBytes: 1024,
    });
    expect(result.exitCode).not.toBe(0);
    const failure = ffmpegFailure(result.exitCode, result.stderr);
    expect(failure.code).toBe('TOO_MANY_PIXELS');
    expectPlainWords(failure.message);
    expect(String(failure.details.stderr)).toContain('30000x30000');
    await rm(file);
  });

  it('an MP4 without its index is CORRUPT_INPUT', async () => {
    const file = join(tempDir, 'no-moov.mp4');
    await writeFile(file, Buffer.concat([Buffer.from('\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2', 'latin1'), Buffer.alloc(600, 0x33)]));
    const failure = await failureOf(() => probeMedia(ffmpeg, file, { timeoutMs: 15_000 }));
    expect(failure.code).toBe('CORRUPT_INPUT');
    expectPlainWords(failure.message);
    await rm(file);
  });

  it('asking for the picture of an audio-only file is NO_VIDEO_STREAM', async () => {
    const file = join(tempDir, 'audio.mp4');
    await writeFile(file, await makeAudioOnly());
    const result = await runProcess(ffmpeg, {
      args: ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', file, '-filter_complex', '[0:v]fps=10', '-f', 'rawvideo', 'pipe:1'],
      timeoutMs: 15_000,
      maxStdoutBytes: 1024,
    });
    expect(result.exitCode).not.toBe(0);
    const err = ffmpegFailure(result.exitCode, result.stderr);
    expect(err.code).toBe('NO_VIDEO_STREAM');
    expectPlainWords(err.message);
    await rm(file);
  });
});
