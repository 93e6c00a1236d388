/**
 * The production {@link WaSocketFactory}: Baileys' `makeWASocket`, adapted to the daemon's
 * narrow port. Baileys' own socket type is the product of an eight-layer maker chain; this
 * file is the one place that touches it.
 */
import type { BinaryNode, UserFacingSocketConfig, WABrowserDescription, makeWASocket } from '@whiskeysockets/baileys';
import { baileys } from '../storage/index.js';
import { cachedSignalKeyStore } from './cached-key-store.js';
import { createSocketCacheRegistry, type SocketCacheRegistry, type SocketCaches } from './socket-caches.js';
import type { WaSocket, WaSocketFactory, WaSocketOptions, WaTransport, WaTransportEvents } from './wa-socket.js';

/** Options of {@link createBaileysSocketFactory} that hold for every session. */
export interface BaileysSocketFactoryOptions {
  /** The browser the linked device shows as on the phone (Baileys default: macOS Chrome). */
  browser?: WABrowserDescription;
  /**
   * Whether to show the account as online on every connect (default false: the phone keeps
   * getting notifications while the bot runs).
   */
  markOnlineOnConnect?: boolean;
  /**
   * Where each socket's bounded caches come from (shared across the factory's sockets);
   * default: a registry of its own with the default bounds. The composition root passes one
   * it also hands to the metrics.
   */
  caches?: SocketCacheRegistry;
}

type BaileysSocket = ReturnType<typeof makeWASocket>;
type AckListener = (...args: WaTransportEvents['message-ack']) => void;

/** Builds Baileys' configuration from the port's options and the socket's bounded caches. */
export function baileysConfig(options: WaSocketOptions, defaults: BaileysSocketFactoryOptions, caches: SocketCaches): UserFacingSocketConfig {
  const { logger } = options;
  return {
    // Baileys reads and writes Signal keys on every message: an in-memory cache in front of
    // the store, as Baileys recommends for any non-file store (cached-key-store.ts).
    auth: { creds: options.auth.creds, keys: cachedSignalKeyStore(options.auth.keys, caches.signalKeys) },
    userDevicesCache: caches.userDevices,
    msgRetryCounterCache: caches.msgRetry,
    placeholderResendCache: caches.placeholderResend,
    callOfferCache: caches.callOffer,
    logger,
    ...(options.waWebSocketUrl === undefined ? {} : { waWebSocketUrl: options.waWebSocketUrl }),
    ...(options.agent === undefined ? {} : { agent: options.agent }),
    ...(options.fetchAgent === undefined ? {} : { fetchAgent: options.fetchAgent }),
    ...(options.fetchOptions === undefined ? {} : { options: options.fetchOptions }),
    ...(options.version === undefined ? {} : { version: options.version }),
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
    ...(options.keepAliveIntervalMs === undefined ? {} : { keepAliveIntervalMs: options.keepAliveIntervalMs }),
    ...(defaults.browser === undefined ? {} : { browser: defaults.browser }),
    syncFullHistory: options.historySync === 'full',
    markOnlineOnConnect: defaults.markOnlineOnConnect ?? false,
    // The bot's own sends are not events for the worker (they would come back as `append`
    // upserts); Baileys' recent-message cache still answers retry receipts for them.
    emitOwnEvents: false,
    // The journal takes each message before its receipt leaves. The upsert that follows is
    // then not held back either: held back, it would absorb a later edit, reaction or delete
    // of the same message, which must reach the journal as an event of its own.
    ...(options.beforeReceipt === undefined ? {} : { beforeMessageReceipt: options.beforeReceipt, bufferMessageUpserts: false }),
    getMessage: async (key) => (await options.getMessage?.(key)) ?? undefined,
  };
}

/** Adapts a Baileys socket to the port. */
export function adaptBaileysSocket(sock: BaileysSocket, options: WaSocketOptions): WaSocket {
  const ackWrappers = new Map<AckListener, (node: BinaryNode) => void>();
  const ws: WaTransport = {
    on(event, listener) {
      if (event === 'message-ack') {
        const ack = listener as AckListener;
        const wrapped = (node: BinaryNode) => {
          const id = node.attrs.id;
          if (id) ack(id, node.attrs.error);
        };
        ackWrappers.set(ack, wrapped);
        sock.ws.on('CB:ack,class:message', wrapped);
        return;
      }
      sock.ws.on(event, listener);
    },
    off(event, listener) {
      if (event === 'message-ack') {
        const wrapped = ackWrappers.get(listener as AckListener);
        if (wrapped) sock.ws.off('CB:ack,class:message', wrapped);
        ackWrappers.delete(listener as AckListener);
        return;
      }
      sock.ws.off(event, listener);
    },
  };
  return {
    ev: sock.ev,
    ws,
    get user() {
      return sock.user;
    },
    sendMessage: (jid, content, sendOptions) => sock.sendMessage(jid, content, sendOptions),
    readMessages: (keys) => sock.readMessages(keys),
    sendPresenceUpdate: (type, toJid) => sock.sendPresenceUpdate(type, toJid),
    onWhatsApp: (...phones) => sock.onWhatsApp(...phones),
    groupMetadata: (jid) => sock.groupMetadata(jid),
    requestPairingCode: (phone) => sock.requestPairingCode(phone),
    downloadMedia: (message, downloadOptions) =>
      baileys().downloadMediaMessage(
        message,
        'buffer',
        {
          options: { ...options.fetchOptions, ...(downloadOptions?.signal ? { signal: downloadOptions.signal } : {}) },
          ...(options.mediaHost === undefined ? {} : { host: options.mediaHost }),
        },
        // Media links expire: Baileys asks the sender's phone for a fresh one once.
        { reuploadRequest: (msg) => sock.updateMediaMessage(msg), logger: options.logger },
      ),
    logout: (msg) => sock.logout(msg),
    end: (error) => sock.end(error),
  };
}

/** The production socket factory (one `makeWASocket` per connection attempt). */
export function createBaileysSocketFactory(defaults: BaileysSocketFactoryOptions = {}): WaSocketFactory {
  const caches = defaults.caches ?? createSocketCacheRegistry();
  return (options) => adaptBaileysSocket(baileys().makeWASocket(baileysConfig(options, defaults, caches.forSocket(options.sessionId))), options);
}
