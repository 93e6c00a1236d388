import { StickerError } from './errors.js';

/** One RIFF chunk of a WebP file; `data` excludes the chunk header and the padding byte. */
export interface WebpChunk {
  fourcc: string;
  data: Buffer;
}

/** The VP8X feature flags. */
export interface WebpFlags {
  icc: boolean;
  alpha: boolean;
  exif: boolean;
  xmp: boolean;
  animation: boolean;
}

/** One frame: for an animated WebP an ANMF chunk, for a static one the whole canvas. */
export interface WebpFrame {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Display time in milliseconds (0 for a static image). */
  durationMs: number;
}

/** What the RIFF container of a WebP file says, read without decoding any pixels. */
export interface WebpContainer {
  /** Every top-level chunk in file order. */
  chunks: WebpChunk[];
  /** Canvas size: from VP8X if present, else from the VP8/VP8L bitstream header. */
  width: number;
  height: number;
  /** VP8X flags, undefined for a simple (VP8/VP8L-only) file. */
  flags: WebpFlags | undefined;
  /** True when the VP8X animation flag is set and ANMF frames are present. */
  animated: boolean;
  /** ANIM loop count (0 = forever), undefined when not animated. */
  loopCount: number | undefined;
  frames: WebpFrame[];
  /** Sum of the frame durations in milliseconds, 0 for a static image. */
  durationMs: number;
  /** The EXIF chunk's payload, if any. */
  exif: Buffer | undefined;
  /** True when the image carries alpha (ALPH chunk, VP8L alpha bit, or VP8X alpha flag). */
  hasAlpha: boolean;
}

const FLAG_ICC = 0x20;
const FLAG_ALPHA = 0x10;
const FLAG_EXIF = 0x08;
const FLAG_XMP = 0x04;
const FLAG_ANIMATION = 0x02;

/** True when the bytes start like a WebP file (RIFF....WEBP). */
export function looksLikeWebp(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 12 &&
    Buffer.from(bytes.buffer, bytes.byteOffset, 4).toString('latin1') === 'RIFF' &&
    Buffer.from(bytes.buffer, bytes.byteOffset + 8, 4).toString('latin1') === 'WEBP'
  );
}

/** The chunks between `start` and `end` (the top level of a file, or the frame data inside an ANMF chunk). */
export function readChunks(buf: Buffer, start: number, end: number): WebpChunk[] {
  const chunks: WebpChunk[] = [];
  let offset = start;
  while (offset < end) {
    if (offset + 8 > end) throw new StickerError('CORRUPT_INPUT', `WebP chunk header cut off at byte ${offset}`);
    const fourcc = buf.toString('latin1', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const dataStart = offset + 8;
    if (dataStart + size > end) {
      throw new StickerError('CORRUPT_INPUT', `WebP chunk ${fourcc} claims ${size} bytes past the end of the file`);
    }
    chunks.push({ fourcc, data: buf.subarray(dataStart, dataStart + size) });
    offset = dataStart + size + (size & 1);
  }
  return chunks;
}

function readUInt24LE(buf: Buffer, offset: number): number {
  return buf[offset]! | (buf[offset + 1]! << 8) | (buf[offset + 2]! << 16);
}

/** Writes the 24-bit little-endian integers of VP8X and ANMF headers. */
export function writeUInt24LE(buf: Buffer, value: number, offset: number): void {
  buf[offset] = value & 0xff;
  buf[offset + 1] = (value >> 8) & 0xff;
  buf[offset + 2] = (value >> 16) & 0xff;
}

interface BitstreamInfo {
  width: number;
  height: number;
  alpha: boolean;
}

/** Size (and VP8L alpha bit) from a VP8 or VP8L bitstream header. */
function readBitstream(chunk: WebpChunk): BitstreamInfo {
  const d = chunk.data;
  if (chunk.fourcc === 'VP8 ') {
    if (d.length < 10 || d[3] !== 0x9d || d[4] !== 0x01 || d[5] !== 0x2a) {
      throw new StickerError('CORRUPT_INPUT', 'VP8 bitstream has no key-frame start code');
    }
    return { width: d.readUInt16LE(6) & 0x3fff, height: d.readUInt16LE(8) & 0x3fff, alpha: false };
  }
  if (d.length < 5 || d[0] !== 0x2f) throw new StickerError('CORRUPT_INPUT', 'VP8L bitstream has no signature');
  const bits = d.readUInt32LE(1);
  return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, alpha: ((bits >>> 28) & 1) === 1 };
}

function readFrame(chunk: WebpChunk): WebpFrame {
  const d = chunk.data;
  if (d.length < 16) throw new StickerError('CORRUPT_INPUT', 'ANMF chunk shorter than its header');
  return {
    x: readUInt24LE(d, 0) * 2,
    y: readUInt24LE(d, 3) * 2,
    width: readUInt24LE(d, 6) + 1,
    height: readUInt24LE(d, 9) + 1,
    durationMs: readUInt24LE(d, 12),
  };
}

/**
 * Parses a WebP file's RIFF container (chunks, VP8X flags, ANIM, ANMF frame geometry and
 * durations, EXIF) without decoding pixels. Throws NOT_A_STICKER if the bytes are not
 * WebP, CORRUPT_INPUT if the container is damaged or truncated.
 */
export function parseWebp(bytes: Uint8Array): WebpContainer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!looksLikeWebp(buf)) throw new StickerError('NOT_A_STICKER', 'not a WebP file (no RIFF/WEBP header)');
  const riffEnd = buf.readUInt32LE(4) + 8;
  if (riffEnd > buf.length) {
    throw new StickerError('CORRUPT_INPUT', `WebP is truncated: RIFF says ${riffEnd} bytes, file has ${buf.length}`);
  }
  const chunks = readChunks(buf, 12, riffEnd);
  const first = chunks[0];
  if (first === undefined) throw new StickerError('CORRUPT_INPUT', 'WebP has no chunks');
  const exif = chunks.find((c) => c.fourcc === 'EXIF')?.data;

  if (first.fourcc === 'VP8X') {
    if (first.data.length < 10) throw new StickerError('CORRUPT_INPUT', 'VP8X chunk too short');
    const f = first.data[0]!;
    const flags: WebpFlags = {
      icc: (f & FLAG_ICC) !== 0,
      alpha: (f & FLAG_ALPHA) !== 0,
      exif: (f & FLAG_EXIF) !== 0,
      xmp: (f & FLAG_XMP) !== 0,
      animation: (f & FLAG_ANIMATION) !== 0,
    };
    const width = readUInt24LE(first.data, 4) + 1;
    const height = readUInt24LE(first.data, 7) + 1;
    const anmf = chunks.filter((c) => c.fourcc === 'ANMF');
    const anim = chunks.find((c) => c.fourcc === 'ANIM');
    if (flags.animation) {
      if (anim === undefined || anim.data.length < 6) throw new StickerError('CORRUPT_INPUT', 'animated WebP without ANIM chunk');
      if (anmf.length === 0) throw new StickerError('CORRUPT_INPUT', 'animated WebP without frames');
      const frames = anmf.map(readFrame);
      return {
        chunks,
        width,
        height,
        flags,
        animated: true,
        loopCount: anim.data.readUInt16LE(4),
        frames,
        durationMs: frames.reduce((sum, fr) => sum + fr.durationMs, 0),
        exif,
        hasAlpha: flags.alpha,
      };
    }
    const image = chunks.find((c) => c.fourcc === 'VP8 ' || c.fourcc === 'VP8L');
    if (image === undefined) throw new StickerError('CORRUPT_INPUT', 'WebP has no image bitstream');
    const bitstream = readBitstream(image);
    return {
      chunks,
      width,
      height,
      flags,
      animated: false,
      loopCount: undefined,
      frames: [{ x: 0, y: 0, width: bitstream.width, height: bitstream.height, durationMs: 0 }],
      durationMs: 0,
      exif,
      hasAlpha: flags.alpha || bitstream.alpha || chunks.some((c) => c.fourcc === 'ALPH'),
    };
  }

  if (first.fourcc !== 'VP8 ' && first.fourcc !== 'VP8L') {
    throw new StickerError('CORRUPT_INPUT', `WebP starts with unexpected chunk ${JSON.stringify(first.fourcc)}`);
  }
  const bitstream = readBitstream(first);
  return {
    chunks,
    width: bitstream.width,
    height: bitstream.height,
    flags: undefined,
    animated: false,
    loopCount: undefined,
    frames: [{ x: 0, y: 0, width: bitstream.width, height: bitstream.height, durationMs: 0 }],
    durationMs: 0,
    exif,
    hasAlpha: bitstream.alpha,
  };
}

/** One RIFF chunk as bytes: header, data and the padding byte for odd sizes. */
export function encodeWebpChunk(chunk: WebpChunk): Buffer {
  const header = Buffer.alloc(8);
  header.write(chunk.fourcc, 0, 4, 'latin1');
  header.writeUInt32LE(chunk.data.length, 4);
  return chunk.data.length % 2 === 1
    ? Buffer.concat([header, chunk.data, Buffer.alloc(1)])
    : Buffer.concat([header, chunk.data]);
}

/** A whole WebP file (RIFF header + `WEBP`) around `chunks`. */
export function encodeWebpFile(chunks: WebpChunk[]): Buffer {
  const body = Buffer.concat(chunks.map(encodeWebpChunk));
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(body.length + 4, 4);
  header.write('WEBP', 8, 'latin1');
  return Buffer.concat([header, body]);
}

/**
 * Returns the WebP with its EXIF chunk replaced by `exif` (or removed when undefined),
 * promoting a simple file to the extended (VP8X) format so that the EXIF flag can be set.
 * The image bitstreams are copied byte for byte: nothing is re-encoded.
 */
export function replaceWebpExif(bytes: Uint8Array, exif: Buffer | undefined): Buffer {
  const parsed = parseWebp(bytes);
  const rest = parsed.chunks.filter((c) => c.fourcc !== 'VP8X' && c.fourcc !== 'EXIF');
  const vp8x = Buffer.alloc(10);
  let flags = parsed.flags === undefined ? 0 : parsed.chunks[0]!.data[0]! & ~FLAG_EXIF;
  if (parsed.hasAlpha) flags |= FLAG_ALPHA;
  if (exif !== undefined) flags |= FLAG_EXIF;
  vp8x[0] = flags;
  writeUInt24LE(vp8x, parsed.width - 1, 4);
  writeUInt24LE(vp8x, parsed.height - 1, 7);
  // Chunk order per the container spec: VP8X, ICCP, ANIM/image data, EXIF, XMP.
  const xmp = rest.filter((c) => c.fourcc === 'XMP ');
  const others = rest.filter((c) => c.fourcc !== 'XMP ');
  const exifChunks = exif === undefined ? [] : [{ fourcc: 'EXIF', data: exif }];
  return encodeWebpFile([{ fourcc: 'VP8X', data: vp8x }, ...others, ...exifChunks, ...xmp]);
}

/**
 * Returns an animated WebP whose frame durations are `fix(durationMs, index)`, patched in
 * the ANMF headers without re-encoding. A static WebP is returned unchanged.
 */
export function rewriteFrameDurations(bytes: Uint8Array, fix: (durationMs: number, index: number) => number): Buffer {
  const parsed = parseWebp(bytes);
  if (!parsed.animated) return Buffer.from(bytes);
  let index = 0;
  const chunks = parsed.chunks.map((c) => {
    if (c.fourcc !== 'ANMF') return c;
    const data = Buffer.from(c.data);
    writeUInt24LE(data, Math.max(0, Math.min(0xffffff, Math.round(fix(readUInt24LE(data, 12), index)))), 12);
    index += 1;
    return { fourcc: c.fourcc, data };
  });
  return encodeWebpFile(chunks);
}

/** The bytes of every image bitstream (VP8/VP8L/ALPH/ANMF) in order, to compare pixels data untouched. */
export function webpImageData(bytes: Uint8Array): Buffer {
  const parsed = parseWebp(bytes);
  return Buffer.concat(
    parsed.chunks.filter((c) => ['VP8 ', 'VP8L', 'ALPH', 'ANMF', 'ANIM'].includes(c.fourcc)).map((c) => c.data),
  );
}
