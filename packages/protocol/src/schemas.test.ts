import { describe, expect, it } from 'vitest';
import {
  exampleDashboardCommands,
  exampleEntries,
  exampleMessage,
  exampleSession,
  exampleWorkerCommands,
} from '../test/examples.js';
import { WORKER_COMMAND_NAMES, WORKER_COMMANDS, isWorkerCommandName } from './commands.js';
import { DASHBOARD_COMMANDS, isDashboardCommandName, sessionQrSchema } from './dashboard.js';
import { StickerbotError } from './errors.js';
import { chatOfEvent, journalEntrySchema } from './events.js';
import { MAX_SESSION_ID_LENGTH, MAX_TEXT_LENGTH } from './limits.js';
import { messageSchema } from './message.js';
import { sessionSchema } from './session.js';
import {
  dashboardAuthSchema,
  eventAckSchema,
  parsePayload,
  parseWorkerCommandArgs,
  workerAuthSchema,
} from './bridge.js';

const rejects = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown) =>
  expect(schema.safeParse(value).success).toBe(false);

describe('documented examples', () => {
  it('every journal entry example is accepted unchanged', () => {
    for (const entry of exampleEntries) expect(journalEntrySchema.parse(entry)).toEqual(entry);
  });

  it('every worker command example is accepted by its own schema', () => {
    for (const name of WORKER_COMMAND_NAMES) {
      expect(WORKER_COMMANDS[name].args.safeParse(exampleWorkerCommands[name]).success, name).toBe(true);
    }
  });

  it('the dashboard examples are accepted', () => {
    expect(DASHBOARD_COMMANDS['session:pair'].args.parse(exampleDashboardCommands['session:pair'])).toEqual(
      exampleDashboardCommands['session:pair'],
    );
    expect(DASHBOARD_COMMANDS['session:create'].args.safeParse(exampleDashboardCommands['session:create']).success).toBe(true);
  });

  it('the handshake auth objects are accepted', () => {
    expect(workerAuthSchema.safeParse({ token: 't0k3n', protocol: 1, group: 'bot', position: 42 }).success).toBe(true);
    expect(workerAuthSchema.safeParse({ token: 't0k3n', protocol: 1 }).success).toBe(true);
    expect(dashboardAuthSchema.safeParse({ token: 'eyJhbGciOi' }).success).toBe(true);
  });

  it('media travels as Buffer and Uint8Array alike', () => {
    const args = { id: 'a', sessionId: 'default', chat: '1@s.whatsapp.net', content: { type: 'image', data: new Uint8Array([1, 2]) } };
    expect(WORKER_COMMANDS['message:send'].args.safeParse(args).success).toBe(true);
  });
});

describe('malformed payloads are rejected', () => {
  it('a message missing required fields', () => {
    const { id: _id, ...withoutId } = exampleMessage;
    rejects(messageSchema, withoutId);
    const { backlog: _b, ...withoutBacklog } = exampleMessage;
    rejects(messageSchema, withoutBacklog);
  });

  it('fields of the wrong type', () => {
    rejects(messageSchema, { ...exampleMessage, timestamp: '2025-01-01' });
    rejects(messageSchema, { ...exampleMessage, fromMe: 'no' });
    rejects(eventAckSchema, { position: -1 });
    rejects(eventAckSchema, { position: 1.5 });
    rejects(workerAuthSchema, { token: 't', protocol: '1' });
  });

  it('oversize strings', () => {
    rejects(messageSchema, { ...exampleMessage, text: 'x'.repeat(MAX_TEXT_LENGTH + 1) });
    rejects(sessionSchema, { ...exampleSession, id: 'a'.repeat(MAX_SESSION_ID_LENGTH + 1) });
    rejects(messageSchema, { ...exampleMessage, id: 'A'.repeat(129) });
  });

  it('a session id outside [a-z0-9_-]', () => {
    for (const id of ['', 'Default', 'a b', 'ü', '../etc']) rejects(sessionSchema, { ...exampleSession, id });
  });

  it('a JID that is not user@server', () => {
    for (const chat of ['4915123456789', '@s.whatsapp.net', 'a b@s.whatsapp.net']) rejects(messageSchema, { ...exampleMessage, chat });
  });

  it('a media descriptor with a negative or fractional size', () => {
    rejects(messageSchema, { ...exampleMessage, media: { mimetype: 'image/jpeg', size: -1 } });
    rejects(messageSchema, { ...exampleMessage, media: { mimetype: 'image/jpeg', size: 1.5 } });
    rejects(messageSchema, { ...exampleMessage, media: { mimetype: '', size: 10 } });
  });

  it('an unknown event type in a journal entry', () => {
    rejects(journalEntrySchema, { seq: 1, sessionId: 'default', ts: 0, event: { type: 'message:exploded' } });
  });

  it('group events with an unknown participant action, a non-JID participant or a non-boolean setting', () => {
    const group = { seq: 1, sessionId: 'default', ts: 0 };
    rejects(journalEntrySchema, { ...group, event: { type: 'group:participants-changed', chat: '1@g.us', action: 'modify', participants: [] } });
    rejects(journalEntrySchema, { ...group, event: { type: 'group:participants-changed', chat: '1@g.us', action: 'add', participants: ['alice'] } });
    rejects(journalEntrySchema, { ...group, event: { type: 'group:updated', chat: '1@g.us', announce: 'on' } });
  });

  it('a journal entry with seq 0', () => {
    rejects(journalEntrySchema, { ...exampleEntries[0], seq: 0 });
  });

  it('unknown command names', () => {
    expect(isWorkerCommandName('message:send')).toBe(true);
    expect(isWorkerCommandName('message:delete-all')).toBe(false);
    expect(isWorkerCommandName('toString')).toBe(false);
    expect(isDashboardCommandName('session:pair')).toBe(true);
    expect(isDashboardCommandName('session:destroy-everything')).toBe(false);
  });

  it('outgoing content of an unknown type, empty text or empty media', () => {
    const schema = WORKER_COMMANDS['message:send'].args;
    const base = { id: 'c1', sessionId: 'default', chat: '1@s.whatsapp.net' };
    rejects(schema, { ...base, content: { type: 'poll', text: 'x' } });
    rejects(schema, { ...base, content: { type: 'text', text: '' } });
    rejects(schema, { ...base, content: { type: 'sticker', data: Buffer.alloc(0) } });
    rejects(schema, { ...base, content: { type: 'sticker', data: 'UklGRg==' } });
  });

  it('a command without its id, or with an id holding spaces', () => {
    rejects(WORKER_COMMANDS['session:list'].args, {});
    rejects(WORKER_COMMANDS['session:list'].args, { id: 'a b' });
  });

  it('a QR payload whose data URL is not a PNG', () => {
    rejects(sessionQrSchema, { sessionId: 'default', qr: '2@abc', dataUrl: 'javascript:alert(1)', expiresAt: 1 });
  });

  it('a pairing phone number with a plus sign or letters', () => {
    for (const phone of ['+4915000000000', '49150abc', '123']) {
      rejects(DASHBOARD_COMMANDS['session:pair'].args, { sessionId: 'default', phone });
    }
  });
});

describe('parsePayload', () => {
  it('returns the parsed value', () => {
    expect(parsePayload(eventAckSchema, { position: 3 }, 'event:ack')).toEqual({ position: 3 });
  });

  it('throws INVALID_ARGS naming the command and the failing field', () => {
    let thrown: unknown;
    try {
      parseWorkerCommandArgs('media:download', { id: 'x', sessionId: 'default' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StickerbotError);
    expect((thrown as StickerbotError).code).toBe('INVALID_ARGS');
    expect((thrown as StickerbotError).message).toMatch(/^media:download: messageId/);
  });
});

describe('chatOfEvent', () => {
  it('names the chat of every event but a session event', () => {
    const alice = exampleMessage.chat;
    const group = exampleEntries.find((entry) => entry.event.type === 'group:updated')?.event as { chat: string };
    expect(exampleEntries.map((entry) => chatOfEvent(entry.event))).toEqual([alice, alice, alice, group.chat, group.chat, undefined]);
  });
});
