import type {
  DashboardCommandArgs,
  JournalEntry,
  Message,
  Session,
  WorkerCommandArgs,
  WorkerCommandName,
} from '../src/index.js';

/** Documented examples of every payload, used by the schema tests and as fixtures. */
export const exampleMessage: Message = {
  id: '3EB0C4A1B2C3D4E5F6A7',
  chat: '4915123456789@s.whatsapp.net',
  sender: '4915123456789@s.whatsapp.net',
  fromMe: false,
  isGroup: false,
  pushName: 'Ana',
  timestamp: 1_764_000_000_000,
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
  updatedAt: 1_764_000_000_000,
};

export const exampleEntries: JournalEntry[] = [
  { seq: 1, sessionId: 'default', ts: 1_764_000_000_100, event: { type: 'message:received', message: exampleMessage } },
  {
    seq: 2,
    sessionId: 'default',
    ts: 1_764_000_000_200,
    event: { type: 'message:updated', id: 'BAE5F00D', chat: '4915123456789@s.whatsapp.net', fromMe: true, status: 'read' },
  },
  {
    seq: 3,
    sessionId: 'default',
    ts: 1_764_000_000_300,
    event: {
      type: 'reaction:received',
      messageId: 'BAE5F00D',
      chat: '4915123456789@s.whatsapp.net',
      sender: '4915123456789@s.whatsapp.net',
      emoji: '👍',
      timestamp: 1_764_000_000_250,
    },
  },
  {
    seq: 4,
    sessionId: 'shop',
    ts: 1_764_000_000_400,
    event: {
      type: 'group:participants-changed',
      chat: '120363025246125244@g.us',
      action: 'add',
      participants: ['4915123456789@s.whatsapp.net'],
    },
  },
  { seq: 5, sessionId: 'default', ts: 1_764_000_000_500, event: { type: 'session:changed', session: exampleSession } },
];

export const exampleSticker = Buffer.from('RIFF....WEBPVP8X', 'latin1');

export const exampleWorkerCommands: { [N in WorkerCommandName]: WorkerCommandArgs<N> } = {
  'message:send': {
    id: 'reply:3EB0C4A1B2C3D4E5F6A7',
    sessionId: 'default',
    chat: '4915123456789@s.whatsapp.net',
    content: { type: 'sticker', data: exampleSticker, animated: false },
    quotedId: '3EB0C4A1B2C3D4E5F6A7',
  },
  'media:download': { id: 'dl:3EB0C4A1B2C3D4E5F6A7', sessionId: 'default', messageId: '3EB0C4A1B2C3D4E5F6A7' },
  'message:read': {
    id: 'read:1',
    sessionId: 'default',
    chat: '4915123456789@s.whatsapp.net',
    messageIds: ['3EB0C4A1B2C3D4E5F6A7'],
  },
  'presence:send': { id: 'typing:1', sessionId: 'default', presence: 'composing', chat: '4915123456789@s.whatsapp.net' },
  'contact:lookup': { id: 'lookup:1', sessionId: 'default', phones: ['4915123456789'] },
  'group:metadata': { id: 'group:1', sessionId: 'default', chat: '120363025246125244@g.us' },
  'session:list': { id: 'list:1' },
  'daemon:status': { id: 'ping:1' },
};

export const exampleDashboardCommands: {
  'session:pair': DashboardCommandArgs<'session:pair'>;
  'session:create': DashboardCommandArgs<'session:create'>;
} = {
  'session:pair': { sessionId: 'default', phone: '4915000000000' },
  'session:create': { sessionId: 'shop-2' },
};
