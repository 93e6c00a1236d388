/**
 * `node --import ./test/support/loaded-modules.mjs …`: on SIGUSR2 the process writes the
 * files of every module it has loaded so far, one a line, to `$LOADED_MODULES_FILE`:
 * CommonJS ones and ES modules loaded through `require` from `require.cache`, ES modules
 * imported from the hooks below (appended as they load, to `$LOADED_MODULES_FILE.esm`).
 */
import { writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const out = process.env.LOADED_MODULES_FILE;
if (!out) throw new Error('loaded-modules.mjs needs LOADED_MODULES_FILE');
register(new URL('./loaded-modules-hooks.mjs', import.meta.url), { data: { out: `${out}.esm` } });
const cache = createRequire(import.meta.url).cache;
process.on('SIGUSR2', () => writeFileSync(out, `${Object.keys(cache).join('\n')}\n`));
