// One conversion in a fresh process, so that each run's peak memory is its own.
// argv: <ours|anchor> <input file>; prints one JSON line with the outcome.
import { readFile } from 'node:fs/promises';
import { Sticker, StickerTypes } from 'wa-sticker-formatter';
import { checkStickerRules, createStickerEngine, parseWebp } from '../../src/index.js';

const [engineName, file] = process.argv.slice(2);
if ((engineName !== 'ours' && engineName !== 'anchor') || file === undefined) {
  process.stderr.write('usage: bench-worker <ours|anchor> <file>\n');
  process.exit(2);
}
const input = await readFile(file);
const metadata = { pack: 'bench pack', author: 'bench' };

async function convert(): Promise<Buffer> {
  if (engineName === 'ours') {
    const engine = createStickerEngine();
    try {
      return (await engine.toSticker(input, { ...metadata, shape: 'fit' })).data;
    } finally {
      await engine.close();
    }
  }
  // wa-sticker-formatter's README settings; quality 50 rather than its default 100, to be fair on size.
  return new Sticker(input, { ...metadata, type: StickerTypes.FULL, quality: 50 }).toBuffer();
}

const started = performance.now();
try {
  const output = await convert();
  const ms = performance.now() - started;
  const problems = checkStickerRules(output);
  let frames = 0;
  try {
    frames = parseWebp(output).frames.length;
  } catch {
    frames = 0;
  }
  process.stdout.write(`${JSON.stringify({ ok: true, ms, bytes: output.length, frames, problems })}\n`);
} catch (err) {
  const ms = performance.now() - started;
  process.stdout.write(`${JSON.stringify({ ok: false, ms, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) })}\n`);
}
process.exit(0);
