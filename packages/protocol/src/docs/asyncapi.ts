/**
 * The AsyncAPI 3 document of the bridge, from the daemon's point of view: it `send`s
 * events to clients and `receive`s their commands, each answered through the Socket.IO
 * ack callback (an AsyncAPI operation `reply` on the same channel). Built from the
 * catalogue; `pnpm protocol:docs` writes it to `packages/protocol/asyncapi.json`.
 */
import { wireErrorSchema } from '../errors.js';
import { PROTOCOL_VERSION } from '../version.js';
import { PROTOCOL_NAMESPACES, type NamespaceDoc } from './catalogue.js';
import { exampleJson } from './example-json.js';
import { toJsonSchema, type JsonSchema } from './json-schema.js';

/** A Socket.IO event name as a key AsyncAPI accepts (`message:send` → `message-send`). */
export function docKey(name: string): string {
  return name.replace(/:/g, '-');
}

const ref = ($ref: string) => ({ $ref });

function idempotencyText(idempotency: NamespaceDoc['commands'][number]['idempotency']): string {
  switch (idempotency) {
    case 'recorded':
      return 'Idempotent by `id`: the outcome is recorded, and the same id with the same arguments returns it without acting again; with other arguments it is refused with `IDEMPOTENCY_CONFLICT`.';
    case 'repeated':
      return 'A read: not recorded, repeating it is harmless (the same id with other arguments while one is in flight is `IDEMPOTENCY_CONFLICT`).';
    case 'no-id':
      return 'Carries no id; the daemon checks the caller\'s role and sessions claim.';
  }
}

/** The AsyncAPI 3.0 document as plain data. */
export function buildAsyncApi(): Record<string, unknown> {
  const schemas: Record<string, JsonSchema> = { 'wire-error': toJsonSchema(wireErrorSchema) };
  const messages: Record<string, unknown> = {};
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};

  for (const ns of PROTOCOL_NAMESPACES) {
    const channelMessages: Record<string, unknown> = {};
    const authKey = `${ns.key}.handshake-auth`;
    schemas[authKey] = toJsonSchema(ns.auth);
    const addMessage = (key: string, message: Record<string, unknown>) => {
      messages[key] = message;
      channelMessages[key] = ref(`#/components/messages/${key}`);
    };

    for (const event of ns.events) {
      const key = `${ns.key}.${docKey(event.name)}`;
      schemas[key] = toJsonSchema(event.payload);
      addMessage(key, {
        name: event.name,
        title: event.name,
        summary: event.summary,
        payload: ref(`#/components/schemas/${key}`),
        examples: [{ name: 'example', payload: exampleJson(event.example) }],
      });
      operations[key] = {
        action: event.action,
        channel: ref(`#/channels/${ns.key}`),
        title: event.name,
        summary: event.summary,
        messages: [ref(`#/channels/${ns.key}/messages/${key}`)],
      };
    }

    for (const command of ns.commands) {
      const key = `${ns.key}.${docKey(command.name)}`;
      schemas[`${key}.request`] = toJsonSchema(command.args);
      schemas[`${key}.ack`] = toJsonSchema(command.ack);
      addMessage(`${key}.request`, {
        name: command.name,
        title: `${command.name} request`,
        summary: command.summary,
        payload: ref(`#/components/schemas/${key}.request`),
        examples: [{ name: 'example', payload: exampleJson(command.example.request) }],
      });
      addMessage(`${key}.ack`, {
        name: `${command.name} ack`,
        title: `${command.name} ack`,
        summary: `The argument of the ack callback of \`${command.name}\`.`,
        payload: ref(`#/components/schemas/${key}.ack`),
        examples: [{ name: 'example', payload: exampleJson({ ok: true, result: command.example.result }) }],
      });
      operations[key] = {
        action: 'receive',
        channel: ref(`#/channels/${ns.key}`),
        title: command.name,
        summary: command.summary,
        description: `Ack: ${command.ackWhen} ${idempotencyText(command.idempotency)}`,
        messages: [ref(`#/channels/${ns.key}/messages/${key}.request`)],
        reply: { channel: ref(`#/channels/${ns.key}`), messages: [ref(`#/channels/${ns.key}/messages/${key}.ack`)] },
      };
    }

    channels[ns.key] = {
      address: ns.address,
      title: `Socket.IO namespace ${ns.address}`,
      summary: ns.summary,
      description: `Connect with the handshake \`auth\` object of schema \`${authKey}\`; a refused handshake is a \`connect_error\` whose \`data\` is a \`wire-error\`. Commands are emitted with their arguments and an ack callback, which is called once with \`{ ok: true, result }\` or \`{ ok: false, error }\`.`,
      servers: [ref('#/servers/daemon')],
      messages: channelMessages,
    };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'stickerbot bridge',
      version: String(PROTOCOL_VERSION),
      description:
        'The bridge between the stickerbot daemon (which holds the WhatsApp sessions and the event journal) and its clients: bot workers on `/worker`, dashboards on `/dashboard`. Socket.IO 4. `info.version` is the protocol version every handshake announces. Generated from the zod schemas of `@stickerbot/protocol` by `pnpm protocol:docs`; see packages/protocol/README.md.',
    },
    defaultContentType: 'application/json',
    servers: {
      daemon: {
        host: '127.0.0.1:7420',
        protocol: 'ws',
        description: 'The daemon (`STICKERBOT_HOST`:`STICKERBOT_PORT`): Socket.IO 4 (Engine.IO 4 over WebSocket, or HTTP long-polling first) on the same port as `/healthz` and the dashboard.',
      },
    },
    channels,
    operations,
    components: { schemas, messages },
  };
}
