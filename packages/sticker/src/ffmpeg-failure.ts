import { StickerError, type StickerErrorCode } from './errors.js';

/** Sides above this are refused by libavutil's image checks and by every decoder we use. */
const LARGEST_SIDE = 16384;

interface Meaning {
  code: StickerErrorCode;
  message: string;
}

const DAMAGED: Meaning = { code: 'CORRUPT_INPUT', message: 'the file is damaged or incomplete and cannot be decoded' };

/**
 * What ffmpeg's stderr means, most specific first. ffmpeg 4.x and 5.x word these the
 * same; the messages are for people (a chat user may read them), ffmpeg's text stays in
 * `details.stderr` and the cause.
 */
const OUT_OF_MEMORY = /Cannot allocate memory|out of memory|ENOMEM/i;

const READINGS: ReadonlyArray<Meaning & { pattern: RegExp }> = [
  { pattern: OUT_OF_MEMORY, code: 'TOO_MANY_PIXELS', message: 'the file needs more memory to convert than a sticker may use' },
  {
    pattern: /matches no streams|does not contain any stream|no video stream/i,
    code: 'NO_VIDEO_STREAM',
    message: 'the file has no picture to make a sticker from',
  },
  {
    pattern: /Decoder \(codec [^)]*\) not found|no decoder found|Unsupported codec|not currently supported|Unknown decoder/i,
    code: 'UNSUPPORTED_FORMAT',
    message: 'the file uses a video format that cannot be converted',
  },
  {
    pattern: /Invalid data found|moov atom not found|error reading header|invalid block label|Error while decoding|could not find codec parameters|cannot decode frame|corrupt|truncat|End of file|video_size to value 0x0|Invalid image size/i,
    ...DAMAGED,
  },
];

/** `Picture size WxH is invalid`: too large when a side passes what decoders accept, else damaged. */
function pictureSize(stderr: string): Meaning | undefined {
  const match = /Picture size (\d+)x(\d+) is invalid/.exec(stderr);
  if (match === null) return undefined;
  const width = Number(match[1]);
  const height = Number(match[2]);
  return width > LARGEST_SIDE || height > LARGEST_SIDE
    ? { code: 'TOO_MANY_PIXELS', message: `the picture is too large to convert (${width}×${height})` }
    : DAMAGED;
}

const FAILED: Meaning = { code: 'FFMPEG_FAILED', message: 'the conversion failed' };

/**
 * Turns a failed ffmpeg run into the engine's typed error, with plain words as the message.
 * `unknown` is what an unrecognised failure means: a probe that cannot open the input
 * points at the input, a failed conversion at the conversion.
 */
export function ffmpegFailure(exitCode: number | null, stderr: string, unknown: 'FFMPEG_FAILED' | 'CORRUPT_INPUT' = 'FFMPEG_FAILED'): StickerError {
  const meaning = pictureSize(stderr) ?? READINGS.find((r) => r.pattern.test(stderr)) ?? (unknown === 'CORRUPT_INPUT' ? DAMAGED : FAILED);
  const tail = stderr.trim().slice(-2000);
  return new StickerError(meaning.code, meaning.message, {
    cause: new Error(`ffmpeg exited with ${exitCode}: ${tail.slice(-300)}`),
    details: { exitCode, stderr: tail },
  });
}

/**
 * True when ffmpeg hit its memory cap. ffmpeg 4.x treats a frame it could not allocate as a
 * decoding error and may still exit 0 with the frames before it: the output is then cut short.
 */
export function ranOutOfMemory(stderr: string): boolean {
  return OUT_OF_MEMORY.test(stderr);
}
