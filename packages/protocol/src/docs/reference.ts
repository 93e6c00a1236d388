/**
 * The generated part of packages/protocol/README.md: per namespace, the handshake, every
 * event and every command with its ack timing, idempotency, errors, schema files and one
 * worked example (request and ack), then the error catalogue. Between the README's
 * `<!-- generated:reference -->` markers; `pnpm protocol:docs` rewrites it.
 */
import { ERROR_CODES, ERROR_CODE_LIST } from '../errors.js';
import { docKey } from './asyncapi.js';
import { COMMON_ERRORS, PROTOCOL_NAMESPACES, type CommandDoc } from './catalogue.js';
import { exampleWireError } from './examples.js';
import { exampleJson } from './example-json.js';
import { schemaFiles } from './schema-files.js';

/** The markers around the generated part of the README. */
export const REFERENCE_START = '<!-- generated:reference (pnpm protocol:docs) -->';
export const REFERENCE_END = '<!-- /generated:reference -->';

function json(value: unknown): string {
  return ['```json', JSON.stringify(exampleJson(value), null, 2), '```'].join('\n');
}

function codes(list: readonly string[]): string {
  return list.map((code) => `\`${code}\``).join(', ');
}

const IDEMPOTENCY: Record<CommandDoc['idempotency'], string> = {
  recorded:
    'recorded under `id` (it acts on WhatsApp): the same id with the same arguments returns the recorded outcome without acting again, also after a daemon restart; with other arguments it is refused with `IDEMPOTENCY_CONFLICT`.',
  repeated: 'not recorded (a read): the same id runs again; only a twin still in flight is shared.',
  'no-id': 'no id; every call acts.',
};

function schemaLink(ns: string, file: string): string {
  return `[\`${file}\`](schemas/${ns}/${file})`;
}

/** The generated README section, markers included. */
export function renderReference(): string {
  const out: string[] = [REFERENCE_START, ''];
  const files = new Set(Object.keys(schemaFiles()));
  const link = (ns: string, file: string) => {
    if (!files.has(`schemas/${ns}/${file}`)) throw new Error(`no schema file schemas/${ns}/${file}`);
    return schemaLink(ns, file);
  };

  for (const ns of PROTOCOL_NAMESPACES) {
    out.push(`### \`${ns.address}\``, '', ns.summary, '');
    out.push(`Handshake \`auth\` (${link(ns.key, 'handshake-auth.json')}):`, '', json(ns.authExample), '');
    out.push('| event | direction | payload | schema |', '| --- | --- | --- | --- |');
    for (const event of ns.events) {
      const direction = event.action === 'send' ? 'daemon → client' : 'client → daemon';
      out.push(`| \`${event.name}\` | ${direction} | ${event.summary} | ${link(ns.key, `${docKey(event.name)}.json`)} |`);
    }
    out.push('');
    for (const event of ns.events) out.push(`Example \`${event.name}\`:`, '', json(event.example), '');

    for (const command of ns.commands) {
      const key = docKey(command.name);
      out.push(`#### \`${command.name}\``, '', command.summary, '');
      out.push(`- **Ack:** ${command.ackWhen}`);
      out.push(`- **Repeated id:** ${IDEMPOTENCY[command.idempotency]}`);
      const errors = [...command.errors, ...COMMON_ERRORS];
      out.push(`- **Errors:** ${codes(errors)}.`);
      out.push(`- **Schemas:** ${link(ns.key, `${key}.request.json`)}, ${link(ns.key, `${key}.ack.json`)}.`, '');
      out.push('Request:', '', json(command.example.request), '', 'Ack:', '', json({ ok: true, result: command.example.result }), '');
    }
  }

  out.push('### Errors', '');
  out.push(`A failed command acks \`{ ok: false, error }\`; a refused handshake's \`connect_error\` carries the same shape in \`err.data\` ([\`wire-error.json\`](schemas/wire-error.json)):`, '');
  out.push(json({ ok: false, error: exampleWireError }), '');
  out.push('| code | retryable | meaning |', '| --- | --- | --- |');
  for (const code of ERROR_CODE_LIST) {
    const { retryable, doc } = ERROR_CODES[code];
    out.push(`| \`${code}\` | ${retryable ? 'yes' : 'no'} | ${doc} |`);
  }
  out.push('', REFERENCE_END);
  return out.join('\n');
}
