/**
 * `pnpm protocol:docs`: writes the AsyncAPI document (`asyncapi.json`), the JSON Schema of
 * every event and command (`schemas/`) and the generated reference of `README.md`, all
 * from the protocol's zod schemas. Run it after changing a schema, an example or the
 * error catalogue; `test/docs.test.ts` fails until the committed files match.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles, withReference } from '../src/docs/generate.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function listJson(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? listJson(join(dir, entry.name)) : entry.name.endsWith('.json') ? [join(dir, entry.name)] : [],
    );
  } catch {
    return [];
  }
  return names;
}

const files = generatedFiles();
for (const stale of listJson(join(root, 'schemas'))) {
  const path = relative(root, stale);
  if (!(path in files)) rmSync(stale);
}
for (const [path, content] of Object.entries(files)) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}
const readmePath = join(root, 'README.md');
writeFileSync(readmePath, withReference(readFileSync(readmePath, 'utf8')));
process.stdout.write(`protocol:docs: wrote ${Object.keys(files).length} files and the README reference\n`);
