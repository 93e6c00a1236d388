/**
 * One worked example of every payload of the bridge: what the README and the AsyncAPI
 * document show, and what the protocol's tests parse with the very schemas they
 * illustrate (so an example cannot drift from the contract). Typed with the inferred
 * payload types: an example that no longer fits does not compile.
 */
import type { DashboardCommandArgs, DashboardCommandName, DashboardCommandResult, JournalStatus, MessageSummary, SessionErrorPayload, SessionListed, SessionQr } from '../dashboard.js';
import type { WorkerCommandArgs, WorkerCommandName, WorkerCommandResult } from '../commands.js';
import type { DashboardAuth, EventAck, WorkerAuth } from '../bridge.js';
import type { WireError } from '../errors.js';
import type { JournalEntry } from '../events.js';
import type { Message } from '../message.js';
import type { Session } from '../session.js';
import { PROTOCOL_VERSION } from '../version.js';

const ALICE = '4915123456789@s.whatsapp.net';
const BOB = '4915000000000@s.whatsapp.net';
const GROUP = '120363025246125244@g.us';
const T0 = 1_764_000_000_000;

export const exampleMessage: Message = {
  id: '3EB0C4A1B2C3D4E5F6A7',
  chat: ALICE,
  sender: ALICE,
  fromMe: false,
  isGroup: false,
  pushName: 'Ana',
  timestamp: T0,
  kind: 'image',
  text: '!sticker circle',
  media: { mimetype: 'image/jpeg', size: 183_204, width: 1280, height: 960 },
  backlog: false,
};

export const exampleSession: Session = {
  id: 'default',
  status: 'CONNECTED',
  account: { jid: '4915000000000@s.whatsapp.net', phone: '4915000000000', name: 'stickerbot' },
  reconnectAttempts: 0,
  updatedAt: T0,
};

/** One `events:journaled` packet: six consecutive entries, one of each event type. */
export const exampleEntries: JournalEntry[] = [
  { seq: 1, sessionId: 'default', ts: T0 + 100, event: { type: 'message:received', message: exampleMessage } },
  {
    seq: 2,
    sessionId: 'default',
    ts: T0 + 200,
    event: { type: 'message:updated', id: 'BAE5F00D', chat: ALICE, fromMe: true, status: 'read' },
  },
  {
    seq: 3,
    sessionId: 'default',
    ts: T0 + 300,
    event: { type: 'reaction:received', messageId: 'BAE5F00D', chat: ALICE, sender: ALICE, emoji: '👍', timestamp: T0 + 250 },
  },
  {
    seq: 4,
    sessionId: 'shop',
    ts: T0 + 400,
    event: { type: 'group:participants-changed', chat: GROUP, action: 'add', participants: [ALICE], author: BOB, subject: 'Sticker swap' },
  },
  {
    seq: 5,
    sessionId: 'shop',
    ts: T0 + 450,
    event: { type: 'group:updated', chat: GROUP, subject: 'Sticker swap 2', author: BOB },
  },
  { seq: 6, sessionId: 'default', ts: T0 + 500, event: { type: 'session:changed', session: exampleSession } },
];

/** Stand-in sticker bytes (a real one is a 512×512 WebP made by `@stickerbot/sticker`). */
export const exampleSticker = Buffer.from('RIFF....WEBPVP8X', 'latin1');

export const exampleWorkerAuth: WorkerAuth = { token: 'the-bridge-token', protocol: PROTOCOL_VERSION, group: 'bot', position: 41 };
export const exampleDashboardAuth: DashboardAuth = { token: 'the-bridge-token-or-a-dashboard-jwt', protocol: PROTOCOL_VERSION };
export const exampleEventAck: EventAck = { position: 6 };

/** A refused handshake's `connect_error` data, and a failed command's error. */
export const exampleWireError: WireError = {
  code: 'SESSION_NOT_CONNECTED',
  message: 'session default is not connected',
  retryable: true,
};

/** One request and its successful answer per worker command. */
export const exampleWorkerCommands: { [N in WorkerCommandName]: { request: WorkerCommandArgs<N>; result: WorkerCommandResult<N> } } = {
  'message:send': {
    request: {
      id: 'w.default:3EB0C4A1B2C3D4E5F6A7.3',
      sessionId: 'default',
      chat: ALICE,
      content: { type: 'sticker', data: exampleSticker, animated: false },
      quotedId: '3EB0C4A1B2C3D4E5F6A7',
    },
    result: { messageId: '3EB0A9F1C2D3E4F5A6B7C8', timestamp: T0 + 1_400 },
  },
  'media:download': {
    request: { id: 'w.default:3EB0C4A1B2C3D4E5F6A7.2', sessionId: 'default', messageId: '3EB0C4A1B2C3D4E5F6A7' },
    result: { data: Buffer.from([0xff, 0xd8, 0xff, 0xe0]), mimetype: 'image/jpeg', size: 4 },
  },
  'message:read': {
    request: { id: 'read:1', sessionId: 'default', chat: ALICE, messageIds: ['3EB0C4A1B2C3D4E5F6A7'] },
    result: { count: 1 },
  },
  'presence:send': {
    request: { id: 'typing:1', sessionId: 'default', presence: 'composing', chat: ALICE },
    result: {},
  },
  'contact:lookup': {
    request: { id: 'lookup:1', sessionId: 'default', phones: ['4915123456789', '4915999999999'] },
    result: { contacts: [{ phone: '4915123456789', exists: true, jid: ALICE }, { phone: '4915999999999', exists: false }] },
  },
  'group:metadata': {
    request: { id: 'group:1', sessionId: 'default', chat: GROUP },
    result: {
      jid: GROUP,
      subject: 'Sticker swap',
      owner: ALICE,
      createdAt: T0 - 86_400_000,
      announce: false,
      participants: [{ jid: ALICE, lid: '207652113936507@lid', admin: 'superadmin' }, { jid: BOB, lid: '88172610040012@lid' }],
    },
  },
  'session:list': { request: { id: 'list:1' }, result: { sessions: [exampleSession] } },
  'daemon:status': { request: { id: 'ping:1' }, result: { protocol: PROTOCOL_VERSION, startedAt: T0 - 3_600_000, now: T0 } },
};

const exampleQr: SessionQr = {
  sessionId: 'shop-2',
  qr: '2@Xk3f9ZQ+example,base64-key-material==,1764000000',
  dataUrl: 'data:image/png;base64,iVBORw0KGgo=',
  expiresAt: T0 + 60_000,
};

const exampleSummary: MessageSummary = {
  sessionId: 'default',
  id: '3EB0C4A1B2C3D4E5F6A7',
  chat: ALICE,
  sender: ALICE,
  fromMe: false,
  pushName: 'Ana',
  kind: 'image',
  preview: '!sticker circle',
  timestamp: T0,
};

const stopped: Session = { id: 'shop-2', status: 'STOPPED', reconnectAttempts: 0, updatedAt: T0 };
const connecting: Session = { id: 'shop-2', status: 'CONNECTING', reconnectAttempts: 0, updatedAt: T0 };

/** One request and its successful answer per dashboard command. */
export const exampleDashboardCommands: { [N in DashboardCommandName]: { request: DashboardCommandArgs<N>; result: DashboardCommandResult<N> } } = {
  'session:subscribe': { request: { sessionId: 'default' }, result: { session: exampleSession, messages: [exampleSummary] } },
  'session:unsubscribe': { request: { sessionId: 'default' }, result: {} },
  'session:create': { request: { sessionId: 'shop-2' }, result: { session: connecting } },
  'session:start': { request: { sessionId: 'shop-2' }, result: { session: connecting } },
  'session:stop': { request: { sessionId: 'shop-2' }, result: { session: stopped } },
  'session:logout': { request: { sessionId: 'shop-2' }, result: { session: { ...stopped, status: 'LOGGED_OUT' } } },
  'session:pair': { request: { sessionId: 'shop-2', phone: '4915000000001' }, result: { code: 'ABCD1234' } },
};

/** The payload of each server → dashboard event. */
export const exampleDashboardEvents: {
  'session:listed': SessionListed;
  'session:changed': Session;
  'session:qr': SessionQr;
  'session:error': SessionErrorPayload;
  'message:received': MessageSummary;
  'journal:status': JournalStatus;
} = {
  'session:listed': { sessions: [exampleSession, stopped] },
  'session:changed': connecting,
  'session:qr': exampleQr,
  'session:error': {
    sessionId: 'shop-2',
    error: { code: 'SESSION_NOT_CONNECTED', message: 'another WhatsApp Web client replaced this session (440); stopped', retryable: false },
  },
  'message:received': exampleSummary,
  'journal:status': { lastSeq: 6, groups: [{ group: 'bot', position: 6, lag: 0, workers: 1 }] },
};
