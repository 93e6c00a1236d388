import { StickerError } from './errors.js';
import { encodeWebpChunk, encodeWebpFile, parseWebp, writeUInt24LE } from './webp-container.js';

/** One frame of an animation: a still WebP placed at (x, y) of the canvas for `durationMs`. */
export interface MuxFrame {
  /** A complete still WebP (simple or VP8X with ALPH) of `width`×`height` pixels. */
  webp: Buffer;
  /** Offsets on the canvas; must be even (the container stores them halved). */
  x: number;
  y: number;
  width: number;
  height: number;
  durationMs: number;
}

const FLAG_ALPHA = 0x10;
const FLAG_ANIMATION = 0x02;
/** ANMF flags: bit 1 set = do not blend (the frame replaces its rectangle); bit 0 clear = no disposal. */
const NO_BLEND_KEEP = 0x02;
const IMAGE_CHUNKS = new Set(['ALPH', 'VP8 ', 'VP8L']);

/**
 * Assembles an animated WebP from still WebPs without re-encoding them: VP8X, ANIM
 * (transparent background, `loopCount`), then one ANMF per frame holding the still's
 * ALPH/VP8/VP8L chunks. Each frame replaces its rectangle and leaves the rest of the canvas
 * as the previous frame left it, which is what lets frames cover only what changed.
 */
export function muxAnimatedWebp(frames: readonly MuxFrame[], canvas: { width: number; height: number }, loopCount = 0): Buffer {
  if (frames.length === 0) throw new StickerError('FFMPEG_FAILED', 'no frames to put in the animation');
  const vp8x = Buffer.alloc(10);
  vp8x[0] = FLAG_ANIMATION | FLAG_ALPHA;
  writeUInt24LE(vp8x, canvas.width - 1, 4);
  writeUInt24LE(vp8x, canvas.height - 1, 7);
  const anim = Buffer.alloc(6);
  anim.writeUInt32LE(0, 0);
  anim.writeUInt16LE(loopCount, 4);
  const anmf = frames.map((frame) => {
    if (frame.x % 2 !== 0 || frame.y % 2 !== 0) throw new StickerError('FFMPEG_FAILED', `frame offset (${frame.x}, ${frame.y}) is not even`);
    const header = Buffer.alloc(16);
    writeUInt24LE(header, frame.x / 2, 0);
    writeUInt24LE(header, frame.y / 2, 3);
    writeUInt24LE(header, frame.width - 1, 6);
    writeUInt24LE(header, frame.height - 1, 9);
    writeUInt24LE(header, Math.max(1, Math.min(0xffffff, Math.round(frame.durationMs))), 12);
    header[15] = NO_BLEND_KEEP;
    const image = parseWebp(frame.webp).chunks.filter((c) => IMAGE_CHUNKS.has(c.fourcc));
    return { fourcc: 'ANMF', data: Buffer.concat([header, ...image.map(encodeWebpChunk)]) };
  });
  return encodeWebpFile([{ fourcc: 'VP8X', data: vp8x }, { fourcc: 'ANIM', data: anim }, ...anmf]);
}
