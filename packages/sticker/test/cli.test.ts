import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStickerRules, readStickerMetadata } from '../src/index.js';
import { makeGif, makeJpeg, makePng, makePngWithAlpha } from '../src/test-kit/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const cliPath = join(here, '..', 'src', 'cli.ts');

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(tsx, ['--conditions=@stickerbot/source', cliPath, ...args], { cwd: dir, env: { ...process.env, INIT_CWD: dir, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sticker-cli-'));
  await writeFile(join(dir, 'photo.png'), await makePngWithAlpha(300, 200));
  await writeFile(join(dir, 'anim.gif'), await makeGif(100, 100, 5));
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Unpacks a zip with the system's unzip (not our own reader: the point is that others read it). */
function unzip(file: string, into: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('unzip', ['-q', '-o', file, '-d', into], (err) => (err instanceof Error ? reject(err) : resolve()));
  });
}

describe('sticker CLI', () => {
  it('exports a folder as a .wastickers pack that unzips to title, author, a 96×96 tray icon and valid stickers in order', async () => {
    const folder = join(dir, 'Cats');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'a.png'), await makePng());
    await writeFile(join(folder, 'b.jpg'), await makeJpeg(200, 300));
    await writeFile(join(folder, 'c.png'), await makePngWithAlpha(300, 200));
    const run = await cli(['pack', 'Cats', '-o', 'cats.wastickers', '--author', 'Alice']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('"Cats", 3 stickers');
    const out = join(dir, 'unpacked');
    await unzip(join(dir, 'cats.wastickers'), out);
    expect((await readdir(out)).sort()).toEqual(['01.webp', '02.webp', '03.webp', 'author.txt', 'title.txt', 'tray.png']);
    expect(await readFile(join(out, 'title.txt'), 'utf8')).toBe('Cats');
    expect(await readFile(join(out, 'author.txt'), 'utf8')).toBe('Alice');
    const tray = await sharp(await readFile(join(out, 'tray.png'))).metadata();
    expect([tray.format, tray.width, tray.height]).toEqual(['png', 96, 96]);
    for (const name of ['01.webp', '02.webp', '03.webp']) expect(checkStickerRules(await readFile(join(out, name)))).toEqual([]);
    // In name order: 01 is a.png, whose centre is a yellow circle.
    const [r = 0, g = 0, b = 0] = await sharp(await readFile(join(out, '01.webp'))).extract({ left: 256, top: 256, width: 1, height: 1 }).removeAlpha().raw().toBuffer();
    expect(r > 200 && g > 200 && b < 80).toBe(true);
  }, 60_000);

  it('refuses a pack of two stickers, naming the rule', async () => {
    const folder = join(dir, 'Two');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'a.png'), await makePng());
    await writeFile(join(folder, 'b.png'), await makePngWithAlpha(100, 100));
    const run = await cli(['pack', 'Two']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error PACK_RULES');
    expect(run.stderr).toContain('a pack holds 3 to 30 stickers, this one 2');
  }, 60_000);

  it('converts a file with shape and pack options and writes a valid sticker', async () => {
    const run = await cli(['photo.png', '-o', 'out.webp', '--shape', 'circle', '--pack', 'CLI pack', '--author', 'me', '--emoji', '😀', '--emoji', '🎉']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const data = await readFile(join(dir, 'out.webp'));
    expect(checkStickerRules(data)).toEqual([]);
    expect(readStickerMetadata(data)).toMatchObject({ packName: 'CLI pack', publisher: 'me', emojis: ['😀', '🎉'] });
  }, 60_000);

  it('prints a sticker’s info as JSON and turns an animated sticker into an MP4', async () => {
    expect((await cli(['anim.gif', '-o', 'anim.webp'])).code).toBe(0);
    const info = await cli(['anim.webp', '--info']);
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ width: 512, height: 512, animated: true, frames: 5 });
    const back = await cli(['anim.webp', '--to-image']);
    expect(back.code).toBe(0);
    expect((await readFile(join(dir, 'anim.mp4'))).toString('latin1', 4, 8)).toBe('ftyp');
  }, 60_000);

  it('exits 1 with the error code on bad input and 2 on bad usage', async () => {
    await writeFile(join(dir, 'notes.txt'), 'hello');
    const bad = await cli(['notes.txt']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('UNSUPPORTED_FORMAT');
    const usage = await cli(['photo.png', '--shape', 'star']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--shape');
  }, 60_000);

  it('says which ffmpeg it runs, its version and why, and takes FFMPEG_PATH', async () => {
    const chosen = await cli(['--ffmpeg']);
    expect(chosen.code).toBe(0);
    const binary = JSON.parse(chosen.stdout) as { path: string; source: string; version: string; reason: string };
    expect(binary.version).not.toBe('unknown');
    expect(binary.reason).not.toBe('');
    const named = await cli(['--ffmpeg'], { FFMPEG_PATH: binary.path });
    expect(JSON.parse(named.stdout)).toMatchObject({ path: binary.path, source: 'option', version: binary.version });
    const missing = await cli(['--ffmpeg'], { FFMPEG_PATH: join(dir, 'no-such-ffmpeg') });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('FFMPEG_FAILED');
  }, 60_000);

  it('fails text stickers with TEXT_RENDER_FAILED when no font is available', async () => {
    const conf = join(dir, 'no-fonts.conf');
    await writeFile(conf, `<?xml version="1.0"?>\n<fontconfig><cachedir>${join(dir, 'fc-cache')}</cachedir></fontconfig>\n`);
    const run = await cli(['--text', 'hello', '-o', 'text.webp'], { FONTCONFIG_FILE: conf });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('TEXT_RENDER_FAILED');
  }, 60_000);
});
