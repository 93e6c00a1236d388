// One engine in its own long-lived process: reads one input path per stdin line, converts
// it, answers one JSON line per conversion. Timing covers the conversion only (the file is
// read before); each engine keeps its own heap and libvips state between conversions.
// argv: <ours|anchor> <ffmpeg>
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { checkStickerRules } from '../../src/index.js';
import { createBenchEngines } from './bench-engines.js';

const [engineName, ffmpeg] = process.argv.slice(2);
if ((engineName !== 'ours' && engineName !== 'anchor') || ffmpeg === undefined) {
  process.stderr.write('usage: bench-worker <ours|anchor> <ffmpeg>\n');
  process.exit(2);
}
const engines = createBenchEngines(ffmpeg);
const convert = engines[engineName];
for await (const file of createInterface({ input: process.stdin })) {
  const input = await readFile(file);
  const started = performance.now();
  try {
    const output = await convert(input);
    const ms = performance.now() - started;
    process.stdout.write(`${JSON.stringify({ ok: true, ms, bytes: output.length, problems: checkStickerRules(output) })}\n`);
  } catch (err) {
    const ms = performance.now() - started;
    process.stdout.write(`${JSON.stringify({ ok: false, ms, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) })}\n`);
  }
}
await engines.close();
process.exit(0);
