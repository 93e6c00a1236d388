/**
 * A scriptable fake of the daemon's WhatsApp socket port ({@link WaSocket}), for tests of
 * the daemon, the worker and the cross-process tests. No Baileys socket, no network:
 *
 * ```ts
 * const wa = createFakeWa();
 * const registry = createSessionRegistry({ socketFactory: wa.factory, ... });
 * wa.session('default').qr();
 * wa.session('default').open();
 * wa.session('default').receiveImage({ from: '4915100000001', data, caption: '!sticker' });
 * expect(wa.session('default').sent).toHaveLength(1);
 * ```
 *
 * Events are emitted synchronously from the scripting calls (as Baileys does from its
 * frame handler), except the `connecting` update and the auto-open of a linked session,
 * which come on a microtask after the socket is created, so they work under fake timers.
 */
import { EventEmitter } from 'node:events';
import type { AnyMessageContent, GroupMetadata, MiscMessageGenerationOptions, WAMessage } from '@whiskeysockets/baileys';
import type { WaSocketEvents, WaSocketFactory } from '../sessions/wa-socket.js';
import { FAKE_DISCONNECT, FakeBoom, FakeWaSocket, type FakeAccount, type FakeDelayableCall, type FakeSendScript, type FakeSent } from './fake-wa-socket.js';
import {
  buildImageMessage,
  buildStickerMessage,
  buildTextMessage,
  buildVideoMessage,
  fakeMessageId,
  toJid,
  type MediaBase,
  type MessageBase,
} from './wa-messages.js';

/** Options of {@link createFakeWa}. */
export interface FakeWaOptions {
  /** Interval of the heartbeat frames of an open socket (ms, default 10 s). */
  frameIntervalMs?: number;
  /** Whether a session that was opened once re-opens by itself on reconnect (default true). */
  autoReopen?: boolean;
  /** Whether sent messages get a server ack (`message-ack`) right away (default true). */
  autoAck?: boolean;
  /**
   * Whether every session starts already linked (as if the daemon had stored credentials):
   * each socket opens by itself, no QR (default false).
   */
  linked?: boolean;
}

/** The scripting handle of one session id (stable across its sockets). */
export class FakeWaSession {
  /** Every socket the daemon created for this session, oldest first. */
  readonly sockets: FakeWaSocket[] = [];
  /** Every message sent through any of its sockets. */
  readonly sent: FakeSent[] = [];
  /** Other calls made on its sockets (`readMessages`, `onWhatsApp`, `logout`, ...). */
  readonly calls: { method: string; args: unknown[] }[] = [];
  /** Media bytes by message id, served by `downloadMedia`. */
  readonly media = new Map<string, { data: Uint8Array; delayMs?: number }>();
  /** Group metadata by JID, served by `groupMetadata`. */
  readonly groups = new Map<string, GroupMetadata>();
  /** The code `requestPairingCode` answers. */
  pairingCode = 'FAKE1234';
  /** Whether the session has "credentials" (it was opened and not logged out). */
  linked = false;
  /** Times it was logged out through `logout()`. */
  loggedOutCount = 0;
  /** Whether open sockets stopped sending frames (a zombie). */
  isDeaf = false;
  /** Whether sent messages get a server ack. */
  autoAck: boolean;
  account: FakeAccount = {};
  private readonly scripts: FakeSendScript[] = [];
  private readonly delays = new Map<FakeDelayableCall, number[]>();
  private existing: Set<string> | undefined;
  private readonly notify = new EventEmitter();

  constructor(
    readonly id: string,
    private readonly options: Required<FakeWaOptions>,
  ) {
    this.autoAck = options.autoAck;
    this.linked = options.linked;
  }

  /** The newest socket, if any. */
  get socket(): FakeWaSocket | undefined {
    return this.sockets.at(-1);
  }

  /** The newest socket; throws when the daemon has not created one. */
  get current(): FakeWaSocket {
    const socket = this.socket;
    if (!socket) throw new Error(`fake: session ${this.id} has no socket yet`);
    return socket;
  }

  /** How many sockets (connection attempts) the daemon created. */
  get connects(): number {
    return this.sockets.length;
  }

  /** @internal Called by the factory. */
  attach(socket: FakeWaSocket): void {
    this.sockets.push(socket);
    queueMicrotask(() => {
      socket.emit('connection.update', { connection: 'connecting', receivedPendingNotifications: false, qr: undefined });
      if (this.linked && this.options.autoReopen && socket.state === 'connecting') this.openSocket(socket);
      this.notify.emit('socket', socket);
    });
  }

  /** Resolves with the first socket created after this call, or the current one if it is still live. */
  waitForSocket(options: { fresh?: boolean } = {}): Promise<FakeWaSocket> {
    const current = this.socket;
    if (!options.fresh && current && current.state !== 'closed') return Promise.resolve(current);
    return new Promise((resolve) => this.notify.once('socket', resolve));
  }

  /** Resolves once `count` messages have been sent in total. */
  waitForSent(count: number): Promise<FakeSent[]> {
    if (this.sent.length >= count) return Promise.resolve(this.sent.slice(0, count));
    return new Promise((resolve) => {
      const check = () => {
        if (this.sent.length >= count) {
          this.notify.off('sent', check);
          resolve(this.sent.slice(0, count));
        }
      };
      this.notify.on('sent', check);
    });
  }

  /** Shows a QR (Baileys rotates it every 20-60 s). */
  qr(value = `2@fake-qr-${this.id}-${Date.now()},noise,identity,adv`): string {
    this.current.emit('connection.update', { qr: value });
    return value;
  }

  /** Logs in: sets the account and emits `connection: 'open'`. */
  open(account: FakeAccount = this.account): void {
    this.account = account;
    this.linked = true;
    this.openSocket(this.current);
  }

  private openSocket(socket: FakeWaSocket): void {
    const jid = toJid(this.account.jid ?? '15550000001');
    socket.user = {
      id: jid.replace('@', ':1@'),
      ...(this.account.lid === undefined ? {} : { lid: this.account.lid }),
      ...(this.account.name === undefined ? {} : { name: this.account.name }),
    };
    socket.state = 'open';
    socket.startFrames(this.options.frameIntervalMs);
    socket.emit('connection.update', { connection: 'open', receivedPendingNotifications: true });
  }

  /** Marks the session as linked (stored credentials): its sockets open by themselves, now and on every reconnect. */
  link(account: FakeAccount = this.account): void {
    this.account = account;
    this.linked = true;
    const socket = this.socket;
    if (socket?.state === 'connecting') queueMicrotask(() => socket.state === 'connecting' && this.openSocket(socket));
  }

  /** Closes the current socket with a `DisconnectReason` code (see {@link FAKE_DISCONNECT}). */
  close(statusCode: number, message = `fake disconnect ${statusCode}`): void {
    if (statusCode === FAKE_DISCONNECT.loggedOut) this.linked = false;
    this.current.closeWith(new FakeBoom(message, statusCode));
  }

  /** Delivers raw messages as one `messages.upsert`. */
  receive(messages: WAMessage[], type: 'notify' | 'append' = 'notify'): WAMessage[] {
    this.current.emit('messages.upsert', { messages, type });
    return messages;
  }

  /** Receives a text message; `backlog` delivers it as `append`. */
  receiveText(input: MessageBase & { text: string; backlog?: boolean }): WAMessage {
    return this.deliver(buildTextMessage(input), input.backlog);
  }

  /** Receives an image; `downloadMedia` serves `data`. */
  receiveImage(input: MediaBase & { backlog?: boolean }): WAMessage {
    return this.deliver(this.withMedia(buildImageMessage(input), input.data), input.backlog);
  }

  /**
   * An image the bot never received (posted before it joined the group): not delivered, but
   * its media is downloadable, so a later message can quote it (`quotedMessage: image.message`).
   */
  undeliveredImage(input: MediaBase): WAMessage {
    return this.withMedia(buildImageMessage(input), input.data);
  }

  /** Receives a video. */
  receiveVideo(input: MediaBase & { seconds?: number; backlog?: boolean }): WAMessage {
    return this.deliver(this.withMedia(buildVideoMessage(input), input.data), input.backlog);
  }

  /** Receives a GIF (a video with `gifPlayback`). */
  receiveGif(input: MediaBase & { seconds?: number; backlog?: boolean }): WAMessage {
    return this.deliver(this.withMedia(buildVideoMessage({ ...input, gif: true }), input.data), input.backlog);
  }

  /** Receives a sticker. */
  receiveSticker(input: Omit<MediaBase, 'caption'> & { animated?: boolean; backlog?: boolean }): WAMessage {
    return this.deliver(this.withMedia(buildStickerMessage(input), input.data), input.backlog);
  }

  /** Someone reacts to a message (an empty emoji removes the reaction). */
  react(input: { from: string; chat?: string; messageId: string; emoji: string; fromMe?: boolean }): void {
    const chat = toJid(input.chat ?? input.from);
    this.current.emit('messages.reaction', [
      {
        key: { remoteJid: chat, id: input.messageId, fromMe: input.fromMe ?? true },
        reaction: {
          key: { remoteJid: chat, fromMe: false, id: fakeMessageId(), ...(chat.endsWith('@g.us') ? { participant: toJid(input.from) } : {}) },
          text: input.emoji,
          senderTimestampMs: Date.now(),
        },
      },
    ]);
  }

  /** Emits raw `messages.update` entries (receipts, edits, deletes). */
  update(updates: WaSocketEvents['messages.update']): void {
    this.current.emit('messages.update', updates);
  }

  /**
   * Emits a `group-participants.update`. A participant is digits, a JID, or, as Baileys parses
   * a LID-addressed notification, `{ id: '…@lid', phoneNumber }`.
   */
  participants(input: {
    group: string;
    action: 'add' | 'remove' | 'promote' | 'demote';
    participants: Array<string | { id: string; phoneNumber?: string }>;
    author?: string;
    authorPn?: string;
  }): void {
    this.current.emit('group-participants.update', {
      id: input.group,
      author: input.author === undefined ? '' : toJid(input.author),
      ...(input.authorPn === undefined ? {} : { authorPn: toJid(input.authorPn) }),
      action: input.action,
      participants: input.participants.map((p) =>
        typeof p === 'string' ? { id: toJid(p) } : { id: toJid(p.id), ...(p.phoneNumber === undefined ? {} : { phoneNumber: toJid(p.phoneNumber) }) },
      ),
    });
  }

  /** Emits a `groups.update` (a subject, description or setting changed), as Baileys does from a group notification. */
  groupUpdate(update: Partial<GroupMetadata> & { id: string }): void {
    this.current.emit('groups.update', [update]);
  }

  /** Makes open sockets stop sending frames (a connection that went deaf). */
  goDeaf(deaf = true): void {
    this.isDeaf = deaf;
  }

  /** Makes the next send fail with `error` (default: a 500 from WhatsApp). */
  failNextSend(error: Error = new FakeBoom('fake send failure', 500)): void {
    this.scripts.push({ kind: 'fail', error });
  }

  /** Makes the next send answer after `ms` (timers, so fake timers control it). */
  delayNextSend(ms: number): void {
    this.scripts.push({ kind: 'delay', ms });
  }

  /** Makes the next send never answer. */
  hangNextSend(): void {
    this.scripts.push({ kind: 'hang' });
  }

  /** Makes the next `method` call answer after `ms` (timers, so fake timers control it; `Infinity` never answers). */
  delayNextCall(method: FakeDelayableCall, ms: number): void {
    const queue = this.delays.get(method) ?? [];
    queue.push(ms);
    this.delays.set(method, queue);
  }

  /** @internal */
  async delayOf(method: FakeDelayableCall): Promise<void> {
    const ms = this.delays.get(method)?.shift();
    if (ms === undefined) return;
    if (ms === Infinity) return new Promise<never>(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Sets which numbers `onWhatsApp` reports as existing (default: every number). */
  setExistingNumbers(phones: readonly string[] | undefined): void {
    this.existing = phones === undefined ? undefined : new Set(phones.map((p) => p.replace(/\D/g, '')));
  }

  /** @internal */
  numberExists(digits: string): boolean {
    return this.existing === undefined || this.existing.has(digits);
  }

  /** @internal */
  takeSendScript(): FakeSendScript | undefined {
    return this.scripts.shift();
  }

  /** @internal */
  recordSend(socket: FakeWaSocket, jid: string, content: AnyMessageContent, options: MiscMessageGenerationOptions | undefined): WAMessage {
    // Like Baileys: the caller's `messageId` is the message's id.
    const id = options?.messageId ?? fakeMessageId('3EB0');
    const message: WAMessage = {
      key: { remoteJid: jid, fromMe: true, id },
      messageTimestamp: Math.floor(Date.now() / 1000),
      status: 1,
    };
    this.sent.push({ sessionId: this.id, jid, content, options, message, at: Date.now() });
    if (this.autoAck) queueMicrotask(() => socket.transport.emit('message-ack', id, undefined));
    this.notify.emit('sent');
    return message;
  }

  private withMedia(message: WAMessage, data: Uint8Array): WAMessage {
    this.media.set(message.key.id ?? '', { data });
    return message;
  }

  private deliver(message: WAMessage, backlog: boolean | undefined): WAMessage {
    this.current.emit('messages.upsert', { messages: [message], type: backlog ? 'append' : 'notify' });
    return message;
  }
}

/** A fake WhatsApp for the daemon: a socket factory plus per-session scripting handles. */
export interface FakeWa {
  /** Pass this as the daemon's socket factory. */
  factory: WaSocketFactory;
  /** The scripting handle of a session (created on first use). */
  session(id: string): FakeWaSession;
  /** Every message sent by any session. */
  readonly sent: FakeSent[];
}

/** Creates a fake WhatsApp (see the module comment for an example). */
export function createFakeWa(options: FakeWaOptions = {}): FakeWa {
  const resolved: Required<FakeWaOptions> = {
    frameIntervalMs: options.frameIntervalMs ?? 10_000,
    autoReopen: options.autoReopen ?? true,
    autoAck: options.autoAck ?? true,
    linked: options.linked ?? false,
  };
  const sessions = new Map<string, FakeWaSession>();
  const session = (id: string): FakeWaSession => {
    let handle = sessions.get(id);
    if (!handle) sessions.set(id, (handle = new FakeWaSession(id, resolved)));
    return handle;
  };
  const factory: WaSocketFactory = (socketOptions) => {
    const handle = session(socketOptions.sessionId);
    const socket = new FakeWaSocket(handle, socketOptions);
    handle.attach(socket);
    return socket;
  };
  return {
    factory,
    session,
    get sent() {
      return [...sessions.values()].flatMap((s) => s.sent).sort((a, b) => a.at - b.at);
    },
  };
}
