import sharp from 'sharp';
import { locateFfmpeg, parseWebp } from '../src/index.js';
import { ffmpegToBuffer } from '../src/test-kit/index.js';

/** An hour-long but tiny video: 16×16 black at one frame every ten seconds. */
export function makeHourLongVideo(): Promise<Buffer> {
  return ffmpegToBuffer(['-f', 'lavfi', '-i', 'color=c=black:s=16x16:r=0.1', '-t', '3600', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'], 'mp4');
}

/** An MP4 holding only an audio track. */
export function makeAudioOnly(): Promise<Buffer> {
  return ffmpegToBuffer(['-f', 'lavfi', '-i', 'sine=d=1', '-c:a', 'aac'], 'mp4');
}

function crc32(bytes: Buffer): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k += 1) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A PNG whose header announces width×height pixels (a decompression bomb's header, without the bomb). */
export function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** One image of {@link gifBytes}: its rectangle on the logical screen, palette indices, delay in centiseconds. */
export interface GifImage {
  left?: number;
  top?: number;
  width: number;
  height: number;
  /** Row-major palette indices (0–255), width × height of them. */
  pixels: Uint8Array;
  delayCs: number;
  /** Disposal method 0–3 (default 1, "leave in place"). */
  disposal?: number;
  /** The palette index drawn as "leave the pixel below". */
  transparent?: number;
  /** Rows stored in the four interlace passes. */
  interlaced?: boolean;
  /** A local colour table (RGB triples, padded to 256 entries) instead of the global one. */
  palette?: readonly [number, number, number][];
}

function colorTable(palette: readonly [number, number, number][]): Buffer {
  const table = Buffer.alloc(256 * 3);
  palette.forEach(([r, g, b], i) => table.set([r, g, b], i * 3));
  return table;
}

/** The rows of an interlaced image in stored order: every 8th from 0, every 8th from 4, every 4th from 2, every 2nd from 1. */
function interlaceRows(pixels: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(pixels.length);
  let stored = 0;
  for (const [first, step] of [[0, 8], [4, 8], [2, 4], [1, 2]] as const) {
    for (let y = first; y < height; y += step, stored += 1) out.set(pixels.subarray(y * width, (y + 1) * width), stored * width);
  }
  return out;
}

/**
 * A GIF89a built byte by byte, so a test controls what encoders would not write: the
 * logical screen size apart from the frames' sizes, exact centisecond delays, disposal
 * methods, transparency, interlace and local palettes. The global palette is 256 entries
 * (`palette`, RGB triples, padded with black); the LZW stream is "uncompressed" (one
 * 9-bit code a pixel, a clear code before the table grows).
 */
export function gifBytes(screen: { width: number; height: number }, images: GifImage[], palette: readonly [number, number, number][]): Buffer {
  const parts: Buffer[] = [];
  const u16 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff];
  parts.push(Buffer.from('GIF89a', 'latin1'), Buffer.from([...u16(screen.width), ...u16(screen.height), 0xf7, 0, 0]));
  parts.push(colorTable(palette));
  // NETSCAPE2.0 loop forever.
  parts.push(Buffer.from([0x21, 0xff, 0x0b, ...Buffer.from('NETSCAPE2.0', 'latin1'), 0x03, 0x01, 0x00, 0x00, 0x00]));
  for (const image of images) {
    const control = ((image.disposal ?? 1) << 2) | (image.transparent === undefined ? 0 : 1);
    parts.push(Buffer.from([0x21, 0xf9, 0x04, control, ...u16(image.delayCs), image.transparent ?? 0, 0x00]));
    const flags = (image.palette === undefined ? 0 : 0x87) | (image.interlaced === true ? 0x40 : 0);
    parts.push(Buffer.from([0x2c, ...u16(image.left ?? 0), ...u16(image.top ?? 0), ...u16(image.width), ...u16(image.height), flags]));
    if (image.palette !== undefined) parts.push(colorTable(image.palette));
    const codes: number[] = [];
    const stored = image.interlaced === true ? interlaceRows(image.pixels, image.width, image.height) : image.pixels;
    stored.forEach((p, i) => {
      if (i % 250 === 0) codes.push(256);
      codes.push(p);
    });
    codes.push(257);
    const bytes: number[] = [];
    let buffer = 0;
    let bits = 0;
    for (const code of codes) {
      buffer |= code << bits;
      bits += 9;
      while (bits >= 8) {
        bytes.push(buffer & 0xff);
        buffer >>>= 8;
        bits -= 8;
      }
    }
    if (bits > 0) bytes.push(buffer & 0xff);
    const blocks: number[] = [8];
    for (let at = 0; at < bytes.length; at += 255) {
      const block = bytes.slice(at, at + 255);
      blocks.push(block.length, ...block);
    }
    blocks.push(0);
    parts.push(Buffer.from(blocks));
  }
  parts.push(Buffer.from([0x3b]));
  return Buffer.concat(parts);
}

/** Bars that spell a frame's number in binary (most significant bit left; white = 1). */
export const NUMBER_BITS = 8;
const BAR_WIDTH = 4;
const BAR_HEIGHT = 8;

/**
 * An animated GIF whose frame k shows k in binary as {@link NUMBER_BITS} black/white bars
 * (robust to lossy re-encoding and scaling), each frame `delayCs` centiseconds.
 */
export function numberedGif(frames: number, delayCs: number): Buffer {
  const width = NUMBER_BITS * BAR_WIDTH;
  const images: GifImage[] = [];
  for (let k = 0; k < frames; k += 1) {
    const pixels = new Uint8Array(width * BAR_HEIGHT);
    for (let x = 0; x < width; x += 1) {
      const bit = (k >> (NUMBER_BITS - 1 - Math.floor(x / BAR_WIDTH))) & 1;
      for (let y = 0; y < BAR_HEIGHT; y += 1) pixels[y * width + x] = bit;
    }
    images.push({ width, height: BAR_HEIGHT, pixels, delayCs });
  }
  return gifBytes({ width, height: BAR_HEIGHT }, images, [[0, 0, 0], [255, 255, 255]]);
}

/**
 * Reads the numbers {@link numberedGif} drew from a decoded 512×512 sticker frame (raw
 * RGBA, shape `fit`: the bars fill the width, centred vertically).
 */
export function readFrameNumber(rgba: Uint8Array, size = 512): number {
  let value = 0;
  const y = size / 2;
  for (let bit = 0; bit < NUMBER_BITS; bit += 1) {
    const x = Math.floor(((bit + 0.5) * size) / NUMBER_BITS);
    const green = rgba[(y * size + x) * 4 + 1] ?? 0;
    value = (value << 1) | (green > 127 ? 1 : 0);
  }
  return value;
}

/** A GIF bomb's shape: a huge logical screen (what decoders allocate) around `frames` 1×1 frames. */
export function screenBombGif(width: number, height: number, frames: number, delayCs = 2): Buffer {
  const images = Array.from({ length: frames }, (_, k) => ({ width: 1, height: 1, left: k % 2, pixels: new Uint8Array([k % 2]), delayCs }));
  return gifBytes({ width, height }, images, [[0, 0, 0], [255, 255, 255]]);
}

/** The ffmpeg binaries to test against: FFMPEG_PATH, the one on PATH and the bundled static build (each once). */
export function testFfmpegs(): string[] {
  const found = [process.env.FFMPEG_PATH, locateFfmpeg(undefined, process.env.PATH).path, locateFfmpeg(undefined, '').path];
  return [...new Set(found.filter((p): p is string => p !== undefined && p !== ''))];
}

/** One frame of {@link webpAnimationBytes}: a still WebP's bitstream placed on the canvas. */
export interface WebpAnimationFrame {
  /** A still WebP (VP8L, or VP8 with or without ALPH) whose image becomes the frame. */
  still: Buffer;
  x: number;
  y: number;
  durationMs: number;
  blend: boolean;
  dispose: boolean;
}

/** An animated WebP assembled chunk by chunk: any canvas size, frame placement and blend/dispose flags. */
export function webpAnimationBytes(canvas: { width: number; height: number }, frames: WebpAnimationFrame[]): Buffer {
  const u24 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff];
  const chunk = (fourcc: string, data: Buffer): Buffer => {
    const header = Buffer.alloc(8);
    header.write(fourcc, 0, 'latin1');
    header.writeUInt32LE(data.length, 4);
    return Buffer.concat([header, data, Buffer.alloc(data.length % 2)]);
  };
  const body: Buffer[] = [
    chunk('VP8X', Buffer.from([0x12, 0, 0, 0, ...u24(canvas.width - 1), ...u24(canvas.height - 1)])),
    chunk('ANIM', Buffer.from([0, 0, 0, 0, 0, 0])),
  ];
  for (const frame of frames) {
    const parsed = parseWebp(frame.still);
    const image = parsed.chunks.filter((c) => ['ALPH', 'VP8 ', 'VP8L'].includes(c.fourcc)).map((c) => chunk(c.fourcc, c.data));
    const flags = (frame.blend ? 0 : 0x02) | (frame.dispose ? 0x01 : 0);
    const header = Buffer.from([...u24(frame.x / 2), ...u24(frame.y / 2), ...u24(parsed.width - 1), ...u24(parsed.height - 1), ...u24(frame.durationMs), flags]);
    body.push(chunk('ANMF', Buffer.concat([header, ...image])));
  }
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(4 + body.reduce((n, b) => n + b.length, 0), 4);
  riff.write('WEBP', 8, 'latin1');
  return Buffer.concat([riff, ...body]);
}

/** A still WebP of a solid (optionally half-transparent) square, lossless or lossy. */
export function squareWebp(side: number, colour: { r: number; g: number; b: number; alpha: number }, lossless: boolean): Promise<Buffer> {
  return sharp({ create: { width: side, height: side, channels: 4, background: colour } }).webp({ lossless, quality: 90, alphaQuality: 100 }).toBuffer();
}
