/**
 * One connection attempt of a session: its socket, its liveness, and the listeners the
 * supervisor hangs on it.
 */
import type { Account } from '@stickerbot/protocol';
import type { Logger } from 'pino';
import { normalizeJid } from './message-mapper.js';
import type { EventJournaler } from './event-journaler.js';
import type { WaSocket, WaSocketEvents } from './wa-socket.js';
import { noteAck, type Liveness } from './zombie-watch.js';

/** One socket from the factory and what the supervisor tracks about it. */
export interface Attempt {
  socket: WaSocket;
  liveness: Liveness;
  qrCount: number;
  detach: () => void;
}

/** What {@link attachAttempt} wires to the socket. */
export interface AttemptListeners {
  /** Connection state changes (QR, open, close); the supervisor ignores stale attempts. */
  onConnection: (update: WaSocketEvents['connection.update']) => void;
  /** Persists Baileys' credentials (`creds.update`). */
  saveCreds: () => void | Promise<void>;
  /** The session's journaling handlers. */
  events: EventJournaler;
  now: () => number;
  logger: Logger;
}

/** The account a connected socket is logged in as. */
export function accountOf(socket: WaSocket): Account | undefined {
  const user = socket.user;
  if (!user?.id) return undefined;
  const jid = normalizeJid(user.id);
  const account: Account = { jid };
  const phone = /^(\d{6,20})@s\.whatsapp\.net$/.exec(jid)?.[1];
  if (phone) account.phone = phone;
  if (user.lid) account.lid = normalizeJid(user.lid);
  const name = user.name ?? user.notify ?? user.verifiedName;
  if (name) account.name = name.slice(0, 256);
  return account;
}

/** Hangs the supervisor's listeners on an attempt's socket; returns what detaches the state listeners. */
export function attachAttempt(attempt: Attempt, listeners: AttemptListeners): () => void {
  const { socket } = attempt;
  const { events, logger: log } = listeners;
  const onCreds = () => {
    try {
      // The Redis store of cluster mode saves asynchronously (and refuses a fenced write).
      const saved = listeners.saveCreds();
      if (saved) saved.catch((err: unknown) => log.error({ err }, 'could not save credentials'));
    } catch (err) {
      log.error({ err }, 'could not save credentials');
    }
  };
  const onFrame = () => {
    attempt.liveness.lastFrameAt = listeners.now();
  };
  const onAck = (messageId: string, error: string | undefined) => {
    if (error) log.warn({ messageId, error }, 'WhatsApp refused a sent message');
    noteAck(attempt.liveness, messageId);
  };
  socket.ev.on('connection.update', listeners.onConnection);
  socket.ev.on('creds.update', onCreds);
  // Message events stay attached after the socket is released: whatever it still emits
  // was acked to WhatsApp by Baileys and must reach the journal.
  socket.ev.on('messages.upsert', events.upsert);
  socket.ev.on('messages.update', events.update);
  socket.ev.on('messages.reaction', events.reaction);
  socket.ev.on('group-participants.update', events.participants);
  socket.ev.on('groups.update', events.groups);
  socket.ws.on('frame', onFrame);
  socket.ws.on('message-ack', onAck);
  return () => {
    socket.ev.off('connection.update', listeners.onConnection);
    socket.ws.off('frame', onFrame);
    socket.ws.off('message-ack', onAck);
  };
}
