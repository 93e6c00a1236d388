// @ts-check
/**
 * `pnpm bench:sessions --real N --live-heap`: preloaded into the daemon, it answers SIGUSR2
 * with two full garbage collections and writes `process.memoryUsage()` from before and after
 * them, as one JSON line, to `STICKERBOT_BENCH_LIVE_HEAP_FILE`. The benchmark asks at the end of
 * each phase: V8 heap used right after a phase counts garbage a later major GC takes (issue
 * #16: 1,035 MB used with 100 sessions just linked), the heap after a full GC is what the
 * sessions hold. Plain JavaScript, like the other preloads, so the daemon runs without a
 * TypeScript loader. Not for production: a full GC of a large heap stalls the event loop.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const file = process.env.STICKERBOT_BENCH_LIVE_HEAP_FILE;
if (!file) {
  process.stderr.write('live-heap: needs STICKERBOT_BENCH_LIVE_HEAP_FILE\n');
  process.exit(1);
}
// `--expose-gc` set at run time puts `gc` on contexts created after it, not on this one.
setFlagsFromString('--expose-gc');
const gc = /** @type {() => void} */ (runInNewContext('gc'));

process.on('SIGUSR2', () => {
  const before = process.memoryUsage();
  // The second collection takes what the first only made unreachable (weak references, finalizers).
  gc();
  gc();
  // Renamed into place: the benchmark reads the file as soon as it exists.
  writeFileSync(`${file}.tmp`, `${JSON.stringify({ before, after: process.memoryUsage() })}\n`);
  renameSync(`${file}.tmp`, file);
});
