/**
 * The fake socket of the test kit: one {@link FakeWaSocket} per connection attempt,
 * scripted through its {@link FakeWaSession} (see `fake-wa-session.ts` and
 * `createFakeWa`).
 */
import type { AnyMessageContent, Contact, GroupMetadata, MiscMessageGenerationOptions, WAMessage, WAMessageKey, WAPresence } from '@whiskeysockets/baileys';
import type {
  WaDownloadOptions,
  WaSocket,
  WaSocketEmitter,
  WaSocketEventName,
  WaSocketEvents,
  WaSocketOptions,
  WaTransport,
  WaTransportEvents,
} from '../sessions/wa-socket.js';
import type { FakeWaSession } from './fake-wa-session.js';
import { toJid } from './wa-messages.js';

/** Baileys' `DisconnectReason` codes, by name (plus 405, WhatsApp's version refusal). */
export const FAKE_DISCONNECT = {
  connectionClosed: 428,
  connectionLost: 408,
  connectionReplaced: 440,
  timedOut: 408,
  loggedOut: 401,
  badSession: 500,
  restartRequired: 515,
  multideviceMismatch: 411,
  forbidden: 403,
  unavailableService: 503,
  versionRefused: 405,
} as const;

/** An error shaped like the `Boom` Baileys puts in `lastDisconnect.error`. */
export class FakeBoom extends Error {
  readonly isBoom = true;
  readonly output: { statusCode: number; payload: { statusCode: number; error: string; message: string } };
  readonly data: unknown;

  constructor(message: string, statusCode: number, data?: unknown) {
    super(message);
    this.name = 'Error';
    this.output = { statusCode, payload: { statusCode, error: 'Error', message } };
    this.data = data;
  }
}

/** The account a fake session logs in as. */
export interface FakeAccount {
  /** Digits or JID; default `15550000001`. */
  jid?: string;
  lid?: string;
  name?: string;
}

/** One `sendMessage` the daemon made. */
export interface FakeSent {
  sessionId: string;
  jid: string;
  content: AnyMessageContent;
  options: MiscMessageGenerationOptions | undefined;
  /** The message returned to the daemon. */
  message: WAMessage;
  /** `Date.now()` when it was sent (fake timers respected). */
  at: number;
}

/** Socket calls whose answers {@link FakeWaSession.delayNextCall} can slow down. */
export type FakeDelayableCall = 'readMessages' | 'sendPresenceUpdate' | 'onWhatsApp' | 'groupMetadata' | 'requestPairingCode';

/** A one-shot script for the next `sendMessage`. */
export type FakeSendScript =
  | { kind: 'fail'; error: Error }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' };

type Listener = (...args: never) => void;

class TypedEmitter {
  private readonly listeners = new Map<string, Set<Listener>>();

  add(event: string, listener: Listener): void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
  }

  remove(event: string, listener: Listener): void {
    this.listeners.get(event)?.delete(listener);
  }

  emit(event: string, ...args: unknown[]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) (listener as (...a: unknown[]) => void)(...args);
  }

  count(event: string): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  clear(): void {
    this.listeners.clear();
  }
}

/** One fake socket (one connection attempt of a session). */
export class FakeWaSocket implements WaSocket {
  readonly events = new TypedEmitter();
  readonly transport = new TypedEmitter();
  readonly ev: WaSocketEmitter;
  readonly ws: WaTransport;
  user: Contact | undefined;
  /** `connecting`, `open` or `closed`. */
  state: 'connecting' | 'open' | 'closed' = 'connecting';
  private frameTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly session: FakeWaSession,
    readonly options: WaSocketOptions,
  ) {
    const events = this.events;
    const transport = this.transport;
    this.ev = {
      on<E extends WaSocketEventName>(event: E, listener: (arg: WaSocketEvents[E]) => void) {
        events.add(event, listener);
      },
      off<E extends WaSocketEventName>(event: E, listener: (arg: WaSocketEvents[E]) => void) {
        events.remove(event, listener);
      },
    };
    this.ws = {
      on<E extends keyof WaTransportEvents>(event: E, listener: (...args: WaTransportEvents[E]) => void) {
        transport.add(event, listener);
      },
      off<E extends keyof WaTransportEvents>(event: E, listener: (...args: WaTransportEvents[E]) => void) {
        transport.remove(event, listener);
      },
    };
  }

  /** Emits a Baileys event to the daemon. */
  emit<E extends WaSocketEventName>(event: E, arg: WaSocketEvents[E]): void {
    if (this.state === 'closed') return;
    this.events.emit(event, arg);
  }

  /** Starts the healthy-connection frame heartbeat. */
  startFrames(intervalMs: number): void {
    this.stopFrames();
    this.frameTimer = setInterval(() => {
      if (!this.session.isDeaf) this.transport.emit('frame');
    }, intervalMs);
    this.frameTimer.unref?.();
  }

  stopFrames(): void {
    if (this.frameTimer) clearInterval(this.frameTimer);
    this.frameTimer = undefined;
  }

  /** Closes like Baileys' `end`: `connection.update` `close` with the error, then silence. */
  closeWith(error: Error | undefined): void {
    if (this.state === 'closed') return;
    this.stopFrames();
    this.events.emit('connection.update', { connection: 'close', lastDisconnect: { error, date: new Date() } });
    this.state = 'closed';
    this.transport.emit('close');
    this.events.clear();
    this.transport.clear();
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new FakeBoom('Connection Closed', FAKE_DISCONNECT.connectionClosed);
  }

  async sendMessage(jid: string, content: AnyMessageContent, options?: MiscMessageGenerationOptions): Promise<WAMessage | undefined> {
    this.assertOpen();
    const script = this.session.takeSendScript();
    if (script?.kind === 'fail') throw script.error;
    if (script?.kind === 'hang') return new Promise<never>(() => undefined);
    if (script?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, script.ms));
    this.assertOpen();
    return this.session.recordSend(this, jid, content, options);
  }

  async readMessages(keys: WAMessageKey[]): Promise<void> {
    this.assertOpen();
    this.session.calls.push({ method: 'readMessages', args: [keys] });
    await this.session.delayOf('readMessages');
    await Promise.resolve();
  }

  async sendPresenceUpdate(type: WAPresence, toJid?: string): Promise<void> {
    this.assertOpen();
    this.session.calls.push({ method: 'sendPresenceUpdate', args: [type, toJid] });
    await this.session.delayOf('sendPresenceUpdate');
    await Promise.resolve();
  }

  async onWhatsApp(...phones: string[]): Promise<{ jid: string; exists: boolean }[] | undefined> {
    this.assertOpen();
    this.session.calls.push({ method: 'onWhatsApp', args: phones });
    await this.session.delayOf('onWhatsApp');
    await Promise.resolve();
    return phones
      .map((phone) => phone.replace(/\D/g, ''))
      .filter((digits) => this.session.numberExists(digits))
      .map((digits) => ({ jid: toJid(digits), exists: true }));
  }

  async groupMetadata(jid: string): Promise<GroupMetadata> {
    this.assertOpen();
    this.session.calls.push({ method: 'groupMetadata', args: [jid] });
    await this.session.delayOf('groupMetadata');
    await Promise.resolve();
    const group = this.session.groups.get(jid);
    if (!group) throw new FakeBoom('item-not-found', 404);
    return group;
  }

  async requestPairingCode(phone: string): Promise<string> {
    this.session.calls.push({ method: 'requestPairingCode', args: [phone] });
    await this.session.delayOf('requestPairingCode');
    await Promise.resolve();
    if (this.state === 'closed') throw new FakeBoom('Connection Closed', FAKE_DISCONNECT.connectionClosed);
    return this.session.pairingCode;
  }

  async downloadMedia(message: WAMessage, options?: WaDownloadOptions): Promise<Buffer> {
    this.session.calls.push({ method: 'downloadMedia', args: [message.key.id] });
    const media = this.session.media.get(message.key.id ?? '');
    if (!media) throw new Error(`fake: no media for message ${message.key.id ?? '?'}`);
    if (media.delayMs !== undefined) {
      const delayMs = media.delayMs;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, delayMs);
        options?.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new Error('aborted'));
        });
      });
    }
    return Buffer.from(media.data);
  }

  async logout(msg?: string): Promise<void> {
    this.session.calls.push({ method: 'logout', args: [msg] });
    this.session.linked = false;
    this.session.loggedOutCount += 1;
    await Promise.resolve();
    this.closeWith(new FakeBoom(msg ?? 'Intentional Logout', FAKE_DISCONNECT.loggedOut));
  }

  async end(error: Error | undefined): Promise<void> {
    this.session.calls.push({ method: 'end', args: [error?.message] });
    await Promise.resolve();
    this.closeWith(error);
  }
}
