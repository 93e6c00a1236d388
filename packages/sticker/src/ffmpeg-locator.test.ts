import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateFfmpeg } from './ffmpeg-locator.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sticker-locate-'));
  await writeFile(join(dir, 'ffmpeg'), '#!/bin/sh\nexit 0\n');
  await chmod(join(dir, 'ffmpeg'), 0o755);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('locateFfmpeg', () => {
  it('prefers the explicit path, then ffmpeg on PATH, then the bundled build', () => {
    expect(locateFfmpeg('/opt/ffmpeg', dir)).toEqual({ path: '/opt/ffmpeg', source: 'option' });
    expect(locateFfmpeg(undefined, `/nonexistent:${dir}`)).toEqual({ path: join(dir, 'ffmpeg'), source: 'path' });
    const bundled = locateFfmpeg(undefined, '/nonexistent');
    expect(bundled.source).toBe('bundled');
    expect(bundled.path).toContain('@ffmpeg-installer');
  });
});
