/**
 * Media made in code for tests, benchmarks and the demo (sharp and ffmpeg's lavfi
 * sources; nothing binary is checked in). Part of `@stickerbot/sticker/test-kit`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { locateFfmpeg } from '../ffmpeg-locator.js';
import type { StickerEngineOptions } from '../types.js';

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

/**
 * A Telegram-style video sticker: WebM, VP9 with alpha (`yuva420p`), 512×512, 30 fps, a
 * moving opaque square on a fully transparent background.
 */
export function makeVp9AlphaWebm(seconds = 1): Promise<Buffer> {
  const clip = `r=30:d=${seconds}`;
  // overlay evaluates its position every frame (drawbox, in FFmpeg 5, once).
  const graph = `color=c=black@0.0:s=512x512:${clip},format=rgba[bg];color=c=blue:s=200x200:${clip},format=rgba[fg];[bg][fg]overlay=x='40+t*100':y=156:format=rgb,format=rgba`;
  return ffmpegToBuffer(['-filter_complex', graph, '-c:v', 'libvpx-vp9', '-pix_fmt', 'yuva420p', '-auto-alt-ref', '0', '-deadline', 'realtime', '-b:v', '400k'], 'webm');
}

/** A colourful PNG. */
export function makePng(width = 320, height = 200): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 220, g: 40, b: 120, alpha: 1 } } })
    .composite([{ input: Buffer.from(`<svg width="${width}" height="${height}"><circle cx="${width / 2}" cy="${height / 2}" r="${Math.min(width, height) / 3}" fill="yellow"/></svg>`) }])
    .png()
    .toBuffer();
}

/** A short H.264 MP4 from ffmpeg's test source (10 fps, fast to make). */
export function makeMp4(seconds = 1, size = '160x120'): Promise<Buffer> {
  return ffmpegToBuffer(['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=10`, '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'], 'mp4');
}

/** Bytes that claim to be a JPEG but are not one. */
export function corruptJpeg(): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 0x41)]);
}
