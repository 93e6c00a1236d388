// One cold conversion in a fresh process, so that each run's peak memory is its own.
// argv: <ours|anchor> <input file> <ffmpeg>; prints one JSON line with the outcome.
import { readFile } from 'node:fs/promises';
import { checkStickerRules } from '../../src/index.js';
import { createBenchEngines } from './bench-engines.js';

const [engineName, file, ffmpeg] = process.argv.slice(2);
if ((engineName !== 'ours' && engineName !== 'anchor') || file === undefined || ffmpeg === undefined) {
  process.stderr.write('usage: bench-worker <ours|anchor> <file> <ffmpeg>\n');
  process.exit(2);
}
const input = await readFile(file);
const started = performance.now();
const engines = createBenchEngines(ffmpeg);
try {
  const output = await engines[engineName](input);
  const ms = performance.now() - started;
  process.stdout.write(`${JSON.stringify({ ok: true, ms, bytes: output.length, problems: checkStickerRules(output) })}\n`);
} catch (err) {
  const ms = performance.now() - started;
  process.stdout.write(`${JSON.stringify({ ok: false, ms, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) })}\n`);
}
await engines.close();
process.exit(0);
