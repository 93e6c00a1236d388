import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { locateFfmpeg } from '@stickerbot/sticker';
import sharp from 'sharp';

const run = promisify(execFile);

/** A colourful PNG. */
export function makePng(width = 320, height = 200): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 220, g: 40, b: 120, alpha: 1 } } })
    .composite([{ input: Buffer.from(`<svg width="${width}" height="${height}"><circle cx="${width / 2}" cy="${height / 2}" r="${Math.min(width, height) / 3}" fill="yellow"/></svg>`) }])
    .png()
    .toBuffer();
}

/** A short H.264 MP4 from ffmpeg's test source. */
export async function makeMp4(seconds = 1, size = '160x120'): Promise<Buffer> {
  const ffmpeg = locateFfmpeg(process.env.FFMPEG_PATH, process.env.PATH).path;
  const dir = await mkdtemp(path.join(tmpdir(), 'worker-fixture-'));
  try {
    const out = path.join(dir, 'clip.mp4');
    await run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=10`, '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', out]);
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Bytes that claim to be a JPEG but are not one. */
export function corruptJpeg(): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 0x41)]);
}
