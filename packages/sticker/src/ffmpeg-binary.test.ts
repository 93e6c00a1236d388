import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StickerError } from './errors.js';
import { chooseFfmpeg, inspectFfmpeg, parseFfmpegFeatures } from './ffmpeg-binary.js';
import { bundledFfmpeg } from './ffmpeg-locator.js';

// Banners and filter help as FFmpeg 5.1 (Debian 12) and a 2018 git build print them, shortened.
const BANNER_51 = 'ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers\n  configuration: --prefix=/usr --enable-libvpx --enable-libx264 --enable-shared\n';
const HELP_51 = 'Filter alphamerge\n  Copy the luma value...\nalphamerge AVOptions:\n\nframesync AVOptions:\n   shortest          <boolean>\n';
const BANNER_2018 = 'ffmpeg version N-47683-g0e8eb07980-static https://johnvansickle.com/ffmpeg/\n  configuration: --enable-gpl --enable-libx264 --enable-libvpx\n';
const HELP_2018 = 'Filter alphamerge\n  Copy the luma value...\n    Inputs:\n       #0: main (video)\n';

let dir: string;

/** A stand-in ffmpeg: a shell script that prints `banner` on stderr and `help` on stdout. */
async function fakeFfmpeg(folder: string, banner: string, help: string, exitCode = 0): Promise<string> {
  await mkdir(join(dir, folder), { recursive: true });
  const file = join(dir, folder, 'ffmpeg');
  await writeFile(file, `#!/bin/sh\nprintf '%s' '${banner}' >&2\nprintf '%s' '${help}'\nexit ${exitCode}\n`);
  await chmod(file, 0o755);
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sticker-ffmpeg-binary-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseFfmpegFeatures', () => {
  it('reads the version and whether alphamerge syncs by timestamp', () => {
    expect(parseFfmpegFeatures(HELP_51, BANNER_51)).toEqual({ version: '5.1.9-0+deb12u1', framesync: true, libvpx: true, missing: [] });
    expect(parseFfmpegFeatures(HELP_2018, BANNER_2018)).toEqual({ version: 'N-47683-g0e8eb07980-static', framesync: false, libvpx: true, missing: [] });
  });

  it('names what a build lacks', () => {
    const features = parseFfmpegFeatures("Unknown filter 'alphamerge'.\n", BANNER_51.replace(' --enable-libx264', ''));
    expect(features.missing).toEqual([expect.stringContaining('alphamerge'), expect.stringContaining('libx264')]);
    expect(parseFfmpegFeatures('', '').missing).toEqual([expect.stringContaining('version')]);
  });
});

describe('chooseFfmpeg', () => {
  it('inspects the real bundled build: a pre-framesync 2018 git build', async () => {
    const bundled = bundledFfmpeg();
    expect(bundled).toBeDefined();
    const features = await inspectFfmpeg(bundled!);
    expect(features.framesync).toBe(false);
    expect(features.version).toMatch(/^N-/);
    expect(features.missing).toEqual([]);
  });

  it('prefers a complete ffmpeg on PATH over the bundled build and says why', async () => {
    const system = await fakeFfmpeg('system', BANNER_51, HELP_51);
    const chosen = await chooseFfmpeg({ pathEnv: `/nonexistent:${join(dir, 'system')}` });
    expect(chosen).toMatchObject({ path: system, source: 'path', version: '5.1.9-0+deb12u1', framesync: true, missing: [] });
    expect(chosen.reason).toContain('security');
  });

  it('falls back to the bundled build when the ffmpeg on PATH lacks something or does not run', async () => {
    await fakeFfmpeg('no-x264', BANNER_51.replace(' --enable-libx264', ''), HELP_51);
    const lacking = await chooseFfmpeg({ pathEnv: join(dir, 'no-x264') });
    expect(lacking).toMatchObject({ path: bundledFfmpeg(), source: 'bundled', framesync: false });
    expect(lacking.reason).toContain('libx264');
    expect(lacking.reason).toContain('no security fixes');

    await fakeFfmpeg('broken', '', '', 1);
    const broken = await chooseFfmpeg({ pathEnv: join(dir, 'broken') });
    expect(broken).toMatchObject({ source: 'bundled' });
    expect(broken.reason).toContain('does not run');

    expect((await chooseFfmpeg({ pathEnv: '/nonexistent' })).reason).toContain('no ffmpeg on PATH');
  });

  it('uses the binary named by the option over the search path', async () => {
    const named = await fakeFfmpeg('named', BANNER_2018, HELP_2018);
    const other = await fakeFfmpeg('other', BANNER_51, HELP_51);
    expect(await chooseFfmpeg({ option: named, pathEnv: join(dir, 'other') })).toMatchObject({ path: named, source: 'option', framesync: false });
    expect(await chooseFfmpeg({ pathEnv: join(dir, 'other') })).toMatchObject({ path: other, source: 'path', framesync: true });
  });

  it('refuses a named binary that does not run with FFMPEG_FAILED, naming the option and FFMPEG_PATH', async () => {
    const refused = await chooseFfmpeg({ option: join(dir, 'missing', 'ffmpeg') }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(StickerError);
    expect((refused as StickerError).code).toBe('FFMPEG_FAILED');
    expect((refused as StickerError).message).toContain('FFMPEG_PATH');
  });
});
