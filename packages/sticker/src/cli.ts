#!/usr/bin/env node
// The CLI is a composition root: it alone reads argv, the environment and files.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createStickerEngine, type StickerEngine } from './engine.js';
import { isStickerError } from './errors.js';
import type { StickerShape } from './shape-mask.js';
import { checkStickerRules } from './sticker-rules-check.js';
import { writeWastickers } from './wastickers.js';

const USAGE = `usage: pnpm sticker <input> [-o out.webp] [--shape fit|crop|circle|rounded] [--pack NAME] [--author NAME] [--emoji 😀]...
       pnpm sticker <sticker.webp> --to-image [-o out.png|out.mp4]
       pnpm sticker <sticker.webp> --info
       pnpm sticker --text "hello" -o out.webp
       pnpm sticker pack <folder> [-o name.wastickers] [--pack TITLE] [--author NAME]
                                             (every file of the folder, by name, as a .wastickers pack)
       pnpm sticker --ffmpeg                 (which ffmpeg is used, its version and why; FFMPEG_PATH picks one)`;
const SHAPES: readonly StickerShape[] = ['fit', 'crop', 'circle', 'rounded'];

/** Output path, never the input itself. */
function outputPath(cwd: string, given: string | undefined, fallback: string, inputPath: string): string {
  const out = resolve(cwd, given ?? fallback);
  if (out === inputPath) fail(`refusing to overwrite the input ${inputPath}: pass -o`);
  return out;
}

/**
 * `pack <folder>`: every file of the folder, in name order, as one `.wastickers` pack; a
 * file that already obeys the sticker rules is kept as it is, anything else is converted.
 */
async function exportPack(engine: StickerEngine, folder: string, options: { output: string | undefined; title: string | undefined; author: string | undefined; shape: StickerShape; cwd: string }): Promise<void> {
  if (!(await stat(folder).catch(() => undefined))?.isDirectory()) fail(`${folder} is not a folder of stickers or images`);
  const names = (await readdir(folder, { withFileTypes: true })).filter((entry) => entry.isFile() && !entry.name.startsWith('.')).map((entry) => entry.name).sort();
  const stickers: Buffer[] = [];
  for (const name of names) {
    const input = await readFile(join(folder, name));
    stickers.push(checkStickerRules(input).length === 0 ? input : (await engine.toSticker(input, { shape: options.shape })).data);
  }
  const title = options.title ?? basename(folder);
  const out = resolve(options.cwd, options.output ?? `${title}.wastickers`);
  await writeFile(out, await writeWastickers({ title, author: options.author ?? '', stickers }));
  process.stdout.write(`${out}: "${title}", ${stickers.length} stickers\n`);
}

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      shape: { type: 'string', default: 'fit' },
      pack: { type: 'string' },
      author: { type: 'string' },
      emoji: { type: 'string', multiple: true },
      text: { type: 'string' },
      'to-image': { type: 'boolean', default: false },
      info: { type: 'boolean', default: false },
      ffmpeg: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const shape = values.shape as StickerShape;
  if (!SHAPES.includes(shape)) fail(`--shape must be one of ${SHAPES.join(', ')}\n${USAGE}`);
  // pnpm runs scripts from the workspace root; paths are meant relative to where the user typed.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const inputArg = positionals[0];
  if (inputArg === undefined && values.text === undefined && !values.ffmpeg) fail(USAGE);

  // The program's edge: the engine reads no environment, the CLI hands it FFMPEG_PATH and PATH.
  const named = process.env.FFMPEG_PATH;
  const engine = createStickerEngine({ ffmpegPath: named === '' ? undefined : named, searchPath: process.env.PATH });
  try {
    if (values.ffmpeg) {
      process.stdout.write(`${JSON.stringify(await engine.ffmpeg(), null, 2)}\n`);
      return;
    }
    if (inputArg === 'pack' && positionals[1] !== undefined) {
      await exportPack(engine, resolve(cwd, positionals[1]), { output: values.output, title: values.pack, author: values.author, shape, cwd });
      return;
    }
    const metadata = {
      shape,
      ...(values.pack === undefined ? {} : { pack: values.pack }),
      ...(values.author === undefined ? {} : { author: values.author }),
      ...(values.emoji === undefined ? {} : { emojis: values.emoji }),
    };
    if (values.text !== undefined) {
      const sticker = await engine.fromText(values.text, metadata);
      const out = resolve(cwd, values.output ?? 'text.webp');
      await writeFile(out, sticker.data);
      process.stdout.write(`${out}: ${sticker.bytes} bytes, static\n`);
      return;
    }
    const inputPath = resolve(cwd, inputArg!);
    const input = await readFile(inputPath);
    const stem = basename(inputPath, extname(inputPath));
    if (values.info) {
      process.stdout.write(`${JSON.stringify(await engine.info(input), null, 2)}\n`);
      return;
    }
    if (values['to-image']) {
      const image = await engine.toImage(input);
      const out = outputPath(cwd, values.output, `${stem}.${image.mimetype === 'image/png' ? 'png' : 'mp4'}`, inputPath);
      await writeFile(out, image.data);
      process.stdout.write(`${out}: ${image.data.length} bytes, ${image.mimetype}\n`);
      return;
    }
    const started = performance.now();
    const sticker = await engine.toSticker(input, metadata);
    const out = outputPath(cwd, values.output, `${stem}.sticker.webp`, inputPath);
    await writeFile(out, sticker.data);
    const kind = sticker.animated ? `animated, ${sticker.frames} frames, ${sticker.durationMs} ms` : 'static';
    process.stdout.write(`${out}: ${sticker.bytes} bytes, ${kind}, ${Math.round(performance.now() - started)} ms\n`);
  } catch (err) {
    if (isStickerError(err)) fail(`error ${err.code}: ${err.message}`, 1);
    throw err;
  } finally {
    await engine.close();
  }
}

await main();
