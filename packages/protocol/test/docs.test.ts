/**
 * The generated contract documents (`pnpm protocol:docs`) against what the schemas
 * generate now: the AsyncAPI document, every JSON Schema file and the README's reference
 * must match byte for byte, the AsyncAPI document must be valid AsyncAPI 3, and every
 * worked example must parse with the schema it illustrates.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import {
  DASHBOARD_COMMAND_NAMES,
  MESSAGE_KINDS,
  PROTOCOL_VERSION,
  RECEIPT_STATUSES,
  WORKER_COMMAND_NAMES,
  botEventSchema,
  mediaSchema,
  messageSchema,
} from '../src/index.js';
import { REFERENCE_START } from '../src/docs/reference.js';
import { PROTOCOL_NAMESPACES } from '../src/docs/catalogue.js';
import { generatedFiles, withReference } from '../src/docs/generate.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const STALE = 'is out of date: run `pnpm protocol:docs` and commit the result';

function committed(path: string): string | undefined {
  try {
    return readFileSync(join(root, path), 'utf8');
  } catch {
    return undefined;
  }
}

function jsonFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? jsonFilesUnder(join(dir, entry.name)) : entry.name.endsWith('.json') ? [relative(root, join(dir, entry.name))] : [],
  );
}

describe('generated protocol documents', () => {
  const files = generatedFiles();

  it('the committed AsyncAPI document and JSON Schemas are what the schemas generate', () => {
    for (const [path, content] of Object.entries(files)) {
      expect(committed(path) === content, `packages/protocol/${path} ${STALE}`).toBe(true);
    }
    const extra = jsonFilesUnder(join(root, 'schemas')).filter((path) => !(path in files));
    expect(extra, `schema files no schema generates any more ${STALE}`).toEqual([]);
  });

  it("the README's generated reference is what the schemas, examples and error catalogue render", () => {
    const readme = committed('README.md') ?? '';
    expect(withReference(readme) === readme, `the reference in packages/protocol/README.md ${STALE}`).toBe(true);
  });

  it('the AsyncAPI document is valid AsyncAPI 3 (no error or warning from @asyncapi/parser)', { timeout: 60_000 }, async () => {
    const { document, diagnostics } = await new Parser().parse(files['asyncapi.json'] ?? '');
    // Severity 0 is an error, 1 a warning; 2 and 3 are hints (such as "3.1.0 exists").
    const problems = diagnostics.filter((d) => Number(d.severity) <= 1).map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`);
    expect(problems).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    expect(document?.info().version()).toBe(String(PROTOCOL_VERSION));
    const operations = document?.operations().all().map((operation) => operation.json<{ title?: string }>().title) ?? [];
    for (const name of [...WORKER_COMMAND_NAMES, ...DASHBOARD_COMMAND_NAMES, 'events:journaled', 'event:ack', 'session:qr']) {
      expect(operations, name).toContain(name);
    }
    const send = document?.operations().all().find((operation) => operation.json<{ title?: string }>().title === 'message:send');
    expect(send?.action()).toBe('receive');
    expect(send?.reply()?.messages().all().map((message) => message.name())).toEqual(['message:send ack']);
  });

  it("the README's hand-written part names every event type, message field and kind, media field and receipt status", () => {
    const prose = (committed('README.md') ?? '').split(REFERENCE_START)[0] ?? '';
    const eventTypes = botEventSchema.options.map((option) => option.shape.type.value);
    const names = [...eventTypes, ...Object.keys(messageSchema.shape), ...MESSAGE_KINDS, ...Object.keys(mediaSchema.shape), ...RECEIPT_STATUSES];
    expect(names.filter((name) => !prose.includes(`\`${name}\``))).toEqual([]);
  });

  it('every worked example parses with the schema it illustrates', () => {
    for (const ns of PROTOCOL_NAMESPACES) {
      expect(ns.auth.safeParse(ns.authExample).success, `${ns.address} auth`).toBe(true);
      for (const event of ns.events) {
        const parsed = event.payload.safeParse(event.example);
        expect(parsed.success, `${event.name}: ${parsed.error?.message ?? ''}`).toBe(true);
      }
      for (const command of ns.commands) {
        expect(command.args.safeParse(command.example.request).success, `${command.name} request`).toBe(true);
        expect(command.ack.safeParse({ ok: true, result: command.example.result }).success, `${command.name} ack`).toBe(true);
      }
    }
  });
});
