/**
 * Everything `pnpm protocol:docs` writes, as text: the AsyncAPI document, the JSON Schema
 * files and the README's generated reference. Pure (no I/O): the script writes it, and a
 * test compares it with the committed files.
 */
import { buildAsyncApi } from './asyncapi.js';
import { REFERENCE_END, REFERENCE_START, renderReference } from './reference.js';
import { schemaFiles } from './schema-files.js';

/** Path (relative to packages/protocol) → file content, for every generated file. */
export function generatedFiles(): Record<string, string> {
  const files: Record<string, string> = { 'asyncapi.json': `${JSON.stringify(buildAsyncApi(), null, 2)}\n` };
  for (const [path, schema] of Object.entries(schemaFiles())) files[path] = `${JSON.stringify(schema, null, 2)}\n`;
  return files;
}

/**
 * The README with its generated reference replaced by the current one. Throws when the
 * markers are missing, rather than appending a second copy.
 */
export function withReference(readme: string): string {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start) throw new Error(`the README has no ${REFERENCE_START} … ${REFERENCE_END} block`);
  return readme.slice(0, start) + renderReference() + readme.slice(end + REFERENCE_END.length);
}
