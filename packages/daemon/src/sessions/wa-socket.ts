/**
 * The narrow port between the daemon and Baileys (CONVENTIONS §3): only the socket methods
 * and events the daemon uses. Production wraps `makeWASocket` (`baileys-socket-factory.ts`);
 * tests pass the fake of `@stickerbot/daemon/test-kit` or point the production factory at
 * the loopback emulator.
 */
import type { Agent } from 'node:https';
import type {
  AnyMessageContent,
  AuthenticationState,
  BaileysEventMap,
  Contact,
  GroupMetadata,
  MessageUpsertType,
  MiscMessageGenerationOptions,
  WAMessage,
  WAMessageKey,
  WAPresence,
  WAVersion,
} from '@whiskeysockets/baileys';
import type { Logger } from 'pino';

/** The Baileys events the daemon listens to. */
export type WaSocketEventName =
  | 'connection.update'
  | 'creds.update'
  | 'messages.upsert'
  | 'messages.update'
  | 'messages.reaction'
  | 'group-participants.update'
  | 'groups.update';

/** Payloads of {@link WaSocketEventName}, exactly as Baileys emits them. */
export type WaSocketEvents = Pick<BaileysEventMap, WaSocketEventName>;

/** The socket's event emitter (Baileys' `sock.ev`, narrowed). */
export interface WaSocketEmitter {
  on<E extends WaSocketEventName>(event: E, listener: (arg: WaSocketEvents[E]) => void): void;
  off<E extends WaSocketEventName>(event: E, listener: (arg: WaSocketEvents[E]) => void): void;
}

/** Events of the underlying WebSocket transport, used for liveness (zombie detection). */
export interface WaTransportEvents {
  /** Any frame arrived from the server (Baileys' `ws` `frame` event). */
  frame: [];
  /** The WebSocket closed. */
  close: [];
  /**
   * The server acknowledged a message stanza this socket sent (`<ack class="message">`):
   * the single grey tick. `error` is set when the server refused it.
   */
  'message-ack': [messageId: string, error: string | undefined];
}

/** The transport's emitter (Baileys' `sock.ws`, narrowed). */
export interface WaTransport {
  on<E extends keyof WaTransportEvents>(event: E, listener: (...args: WaTransportEvents[E]) => void): void;
  off<E extends keyof WaTransportEvents>(event: E, listener: (...args: WaTransportEvents[E]) => void): void;
}

/** Options of {@link WaSocket.downloadMedia}. */
export interface WaDownloadOptions {
  /** Aborts the download (the daemon's 60 s timeout). */
  signal?: AbortSignal;
}

/** The WhatsApp socket as the daemon uses it. */
export interface WaSocket {
  /** Baileys events. */
  readonly ev: WaSocketEmitter;
  /** Transport liveness events. */
  readonly ws: WaTransport;
  /** The logged-in account, once known. */
  readonly user: Contact | undefined;
  /** Sends a message; resolves with the sent `WAMessage` once WhatsApp took the stanza. */
  sendMessage(jid: string, content: AnyMessageContent, options?: MiscMessageGenerationOptions): Promise<WAMessage | undefined>;
  /** Marks messages as read. */
  readMessages(keys: WAMessageKey[]): Promise<void>;
  /** Sends a presence, globally or in one chat. */
  sendPresenceUpdate(type: WAPresence, toJid?: string): Promise<void>;
  /** Which phone numbers (digits or JIDs) have a WhatsApp account. */
  onWhatsApp(...phones: string[]): Promise<{ jid: string; exists: boolean }[] | undefined>;
  /** A group's metadata. */
  groupMetadata(jid: string): Promise<GroupMetadata>;
  /** Asks for an 8-character pairing code for a phone number (digits only). */
  requestPairingCode(phone: string): Promise<string>;
  /** Downloads and decrypts the media of a message (re-requesting expired media once). */
  downloadMedia(message: WAMessage, options?: WaDownloadOptions): Promise<Buffer>;
  /** Logs out of WhatsApp (unlinks the device). */
  logout(msg?: string): Promise<void>;
  /** Closes the socket without logging out; emits `connection.update` `close` with `error`. */
  end(error: Error | undefined): Promise<void>;
}

/**
 * Which history WhatsApp should push after a login. `recent` (default) keeps Baileys'
 * default of everything but the full history (the initial sync carries the LID mappings
 * Baileys needs); `full` asks the phone for everything.
 */
export type HistorySyncPolicy = 'recent' | 'full';

/** What a {@link WaSocketFactory} gets for one connection attempt. */
export interface WaSocketOptions {
  /** The session this socket belongs to. */
  sessionId: string;
  /** Baileys auth state from the auth store (the factory adds the key cache). */
  auth: AuthenticationState;
  /** WhatsApp Web socket URL (`STICKERBOT_WA_URL`); Baileys' default when unset. */
  waWebSocketUrl?: string;
  /** HTTPS agent for the WebSocket (the emulator's self-signed certificate). */
  agent?: Agent;
  /** HTTPS agent for media uploads. */
  fetchAgent?: Agent;
  /** `fetch` options for media downloads, e.g. an undici `dispatcher` (the emulator). */
  fetchOptions?: RequestInit;
  /** Media host for messages that carry only a `directPath` (Baileys default `mmg.whatsapp.net`; the emulator's). */
  mediaHost?: string;
  /** History sync policy (default `recent`: no full history). */
  historySync?: HistorySyncPolicy;
  /** The WhatsApp Web version to announce; Baileys' bundled one when unset. */
  version?: WAVersion;
  /** Connect timeout in ms (Baileys default 20 s). */
  connectTimeoutMs?: number;
  /** Keep-alive ping interval in ms (Baileys default 30 s). */
  keepAliveIntervalMs?: number;
  /**
   * Called with each decrypted incoming message before its delivery receipt leaves (the
   * Baileys patch's `beforeMessageReceipt`, which awaits it); the daemon journals it here,
   * synchronously over SQLite, before the promise resolves over Redis. If it throws (or
   * rejects), Baileys refuses (nacks) the message instead of acknowledging it. A message
   * given here comes again in `messages.upsert`, which is then not held back by Baileys'
   * event buffer.
   */
  beforeReceipt?: (message: WAMessage, type: MessageUpsertType) => void | Promise<void>;
  /** Looks up a sent message for Baileys' retry receipts (the daemon answers from its journal). */
  getMessage?: (key: WAMessageKey) => Promise<WAMessage['message'] | undefined>;
  /** The session's logger (a pino child with `sessionId`). */
  logger: Logger;
}

/** Creates one socket (one connection attempt); the supervisor calls it on every (re)connect. */
export type WaSocketFactory = (options: WaSocketOptions) => WaSocket;
