/**
 * `node --import ./test/support/v8-flags-probe.mjs …`: appends every flag the process passes
 * to `v8.setFlagsFromString` to `$V8_FLAGS_FILE`, one a line, then hands it to V8 as before
 * (what V8 makes of a flag is V8's; which flags a launcher sets is what this records).
 */
import { appendFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';

const out = process.env.V8_FLAGS_FILE;
if (!out) throw new Error('v8-flags-probe.mjs needs V8_FLAGS_FILE');
const v8 = createRequire(import.meta.url)('node:v8');
const setFlagsFromString = v8.setFlagsFromString;
v8.setFlagsFromString = (flags) => {
  appendFileSync(out, `${flags}\n`);
  setFlagsFromString(flags);
};
// `import { setFlagsFromString } from 'node:v8'` in modules loaded after this one sees the wrapper.
syncBuiltinESMExports();
