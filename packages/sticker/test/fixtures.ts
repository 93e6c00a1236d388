import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { locateFfmpeg, parseWebp, type StickerEngineOptions } from '../src/index.js';

const run = promisify(execFile);

/**
 * What the tests' engines take from the environment, as the worker and the CLI do (the
 * engine reads none): FFMPEG_PATH (CI runs the suite once with the bundled build) and PATH.
 */
export function fromEnvironment(): Pick<StickerEngineOptions, 'ffmpegPath' | 'searchPath'> {
  const named = process.env.FFMPEG_PATH;
  return { ffmpegPath: named === '' ? undefined : named, searchPath: process.env.PATH };
}

/** The ffmpeg the tests run: FFMPEG_PATH, else PATH, else the bundled build. */
export function testFfmpeg(): string {
  const { ffmpegPath, searchPath } = fromEnvironment();
  return locateFfmpeg(ffmpegPath, searchPath).path;
}

/** A photo-like JPEG: smooth gradients plus fine grain, optionally with an EXIF orientation. */
export async function makeJpeg(width: number, height: number, options: { orientation?: number; quality?: number } = {}): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#2a6"/><stop offset="0.5" stop-color="#fc3"/><stop offset="1" stop-color="#a24"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>
    <circle cx="${width * 0.3}" cy="${height * 0.4}" r="${Math.min(width, height) * 0.2}" fill="#fff" fill-opacity="0.6"/>
    <rect x="${width * 0.6}" y="${height * 0.1}" width="${width * 0.25}" height="${height * 0.8}" fill="#124" fill-opacity="0.7"/></svg>`;
  const grain = await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 24 } } })
    .png()
    .toBuffer();
  let image = sharp(Buffer.from(svg)).composite([{ input: grain, blend: 'soft-light' }]);
  if (options.orientation !== undefined) image = image.withMetadata({ orientation: options.orientation });
  return image.jpeg({ quality: options.quality ?? 90 }).toBuffer();
}

/** A PNG with a transparent background and a half-transparent shape. */
export async function makePngWithAlpha(width: number, height: number): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <circle cx="${width / 2}" cy="${height / 2}" r="${Math.min(width, height) * 0.4}" fill="#e33"/>
    <rect x="${width * 0.1}" y="${height * 0.6}" width="${width * 0.8}" height="${height * 0.2}" fill="#36f" fill-opacity="0.5"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** Raw RGBA frames of a moving square, stacked vertically. */
async function movingFrames(width: number, height: number, frames: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < frames; i += 1) {
    const x = Math.round(((width * 0.6) * i) / Math.max(1, frames - 1));
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
      <rect width="100%" height="100%" fill="hsl(${(i * 37) % 360},70%,60%)"/>
      <rect x="${x}" y="${height * 0.3}" width="${width * 0.4}" height="${height * 0.4}" fill="#123"/></svg>`;
    parts.push(await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer());
  }
  return Buffer.concat(parts);
}

/** An animated GIF of `frames` frames, `delayMs` each. */
export async function makeGif(width: number, height: number, frames: number, delayMs = 100): Promise<Buffer> {
  const raw = await movingFrames(width, height, frames);
  return sharp(raw, { raw: { width, height: height * frames, channels: 4, pageHeight: height } })
    .gif({ delay: Array.from({ length: frames }, () => delayMs), loop: 0 })
    .toBuffer();
}

/** An animated WebP of `frames` frames with the given delays. */
export async function makeAnimatedWebp(width: number, height: number, delays: number[]): Promise<Buffer> {
  const raw = await movingFrames(width, height, delays.length);
  return sharp(raw, { raw: { width, height: height * delays.length, channels: 4, pageHeight: height } })
    .webp({ delay: delays, loop: 0, quality: 70 })
    .toBuffer();
}

/** Runs ffmpeg into a temp file and returns its bytes. */
export async function ffmpegToBuffer(args: string[], extension: string): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'sticker-fixture-'));
  try {
    const out = join(dir, `out.${extension}`);
    await run(testFfmpeg(), ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args, out], { maxBuffer: 1024 * 1024 });
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A synthetic clip from ffmpeg's lavfi sources: MP4 (H.264) or WebM (VP8), with a sine audio track if asked. */
export function makeVideo(options: {
  seconds: number;
  width: number;
  height: number;
  fps?: number;
  source?: 'testsrc2' | 'mandelbrot';
  container?: 'mp4' | 'webm' | 'mov';
  audio?: boolean;
}): Promise<Buffer> {
  const fps = options.fps ?? 25;
  const source = options.source ?? 'testsrc2';
  const container = options.container ?? 'mp4';
  const size = `${options.width}x${options.height}`;
  const input = source === 'mandelbrot' ? `mandelbrot=size=${size}:rate=${fps}` : `testsrc2=size=${size}:rate=${fps}`;
  const codec =
    container === 'webm'
      ? ['-c:v', 'libvpx', '-deadline', 'realtime', '-b:v', '1M']
      : ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p'];
  const audio = options.audio === true ? ['-f', 'lavfi', '-i', `sine=d=${options.seconds}`] : [];
  const audioCodec = options.audio === true ? (container === 'webm' ? ['-c:a', 'libvorbis'] : ['-c:a', 'aac']) : [];
  return ffmpegToBuffer(['-f', 'lavfi', '-i', input, ...audio, '-t', String(options.seconds), ...codec, ...audioCodec], container);
}

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
