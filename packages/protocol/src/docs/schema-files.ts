/**
 * The JSON Schema files of every event and command (`packages/protocol/schemas/`), one
 * self-contained draft-07 document per payload, for peers that are not written in
 * TypeScript: `<namespace>/handshake-auth.json`, `<namespace>/<event>.json`,
 * `<namespace>/<command>.request.json` and `<command>.ack.json`, and `wire-error.json`.
 */
import { wireErrorSchema } from '../errors.js';
import type { z } from 'zod';
import { docKey } from './asyncapi.js';
import { PROTOCOL_NAMESPACES } from './catalogue.js';
import { toJsonSchema } from './json-schema.js';

function document(schema: z.ZodType, title: string, description: string): Record<string, unknown> {
  return { $schema: 'http://json-schema.org/draft-07/schema#', title, description, ...toJsonSchema(schema) };
}

/** Path (relative to packages/protocol) → JSON Schema document. */
export function schemaFiles(): Record<string, Record<string, unknown>> {
  const files: Record<string, Record<string, unknown>> = {
    'schemas/wire-error.json': document(wireErrorSchema, 'wire error', 'An error as it crosses the bridge: a failed command ack carries it as `error`, a refused handshake as the `connect_error` data.'),
  };
  for (const ns of PROTOCOL_NAMESPACES) {
    const dir = `schemas/${ns.key}`;
    files[`${dir}/handshake-auth.json`] = document(ns.auth, `${ns.address} handshake auth`, `The Socket.IO \`auth\` object a client presents when it connects to ${ns.address}.`);
    for (const event of ns.events) {
      files[`${dir}/${docKey(event.name)}.json`] = document(event.payload, `${ns.address} ${event.name}`, event.summary);
    }
    for (const command of ns.commands) {
      files[`${dir}/${docKey(command.name)}.request.json`] = document(command.args, `${ns.address} ${command.name} request`, command.summary);
      files[`${dir}/${docKey(command.name)}.ack.json`] = document(command.ack, `${ns.address} ${command.name} ack`, `The argument of the ack callback of ${command.name}. ${command.ackWhen}`);
    }
  }
  return files;
}
