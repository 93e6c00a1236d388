/**
 * The caches the daemon hands to each Baileys socket instead of Baileys' defaults (a
 * `NodeCache` per socket with a TTL and no size limit, issue #16), all bounded by size and
 * age (`bounded-cache.ts`):
 *
 * - **Signal keys** (in front of the SQLite key store): one cache shared by every session,
 *   each socket in a namespace of its own (`<session>#<n>.`) so a bound holds for the whole
 *   daemon, a busy session may use what idle ones do not, and a new socket (after a
 *   reconnect, a logout) never reads what its predecessor cached, as with Baileys' per-socket
 *   cache; the previous socket's entries are dropped when the next one is made. Key types
 *   read rarely or cached elsewhere go straight to SQLite ({@link UNCACHED_SIGNAL_KEY_TYPES}).
 * - **User devices** (which devices a user has, asked of WhatsApp before each send): per
 *   socket. Not shared, though it looks like a fact about the user: Baileys caches the list
 *   as the asking socket sees it, without its own device for its own account
 *   (`extractDeviceJids`), so a shared list would make another session skip that device.
 * - **Message retry counts, placeholder resends, call offers**: per socket (their keys are
 *   message and call ids of that account's traffic).
 */
import { createBoundedCache, namespacedCache, type BoundedCache, type BoundedCacheOptions } from './bounded-cache.js';

/** Names of the per-socket caches. */
export type SocketCacheName = 'signalKeys' | 'userDevices' | 'msgRetry' | 'placeholderResend' | 'callOffer';

/** Bounds of every cache; `signalKeys` is a daemon-wide total, the others are per socket. */
export interface SocketCacheLimits {
  /** Signal keys of all sessions together (Baileys: 5 min TTL, no size limit per socket). */
  signalKeys: Omit<BoundedCacheOptions, 'now'>;
  /** Device lists of the users a socket sends to, per socket (Baileys: 5 min, no size limit). */
  userDevices: Omit<BoundedCacheOptions, 'now'>;
  /** Retry counts of undecryptable messages, per socket (Baileys: 1 h, no size limit). */
  msgRetry: Omit<BoundedCacheOptions, 'now'>;
  /** Placeholder resend requests, per socket (Baileys: 1 h, no size limit). */
  placeholderResend: Omit<BoundedCacheOptions, 'now'>;
  /** Call offers, per socket (Baileys: 5 min, no size limit). */
  callOffer: Omit<BoundedCacheOptions, 'now'>;
}

const MINUTE_MS = 60_000;

/** Default bounds: the Signal key cache holds about 200 keys per session at a hundred sessions. */
export const DEFAULT_SOCKET_CACHE_LIMITS: Readonly<SocketCacheLimits> = Object.freeze({
  signalKeys: { maxEntries: 20_000, ttlMs: 5 * MINUTE_MS },
  userDevices: { maxEntries: 1_000, ttlMs: 5 * MINUTE_MS },
  msgRetry: { maxEntries: 1_000, ttlMs: 60 * MINUTE_MS },
  placeholderResend: { maxEntries: 500, ttlMs: 60 * MINUTE_MS },
  callOffer: { maxEntries: 50, ttlMs: 5 * MINUTE_MS },
});

/**
 * Signal key types the shared cache does not hold (Baileys' cacheable store then reads them
 * from SQLite each time): a login writes 812 pre-keys, read once each when a contact starts a
 * Signal session; an app-state version (one per collection) carries a MAC per synced entry,
 * hundreds of KB for an account with a few hundred contacts, read once per app-state sync;
 * LID mappings (two per contact at a login) are kept by Baileys' own `LIDMappingStore` cache.
 * Cached, a hundred logins fill the daemon-wide bound with them and push out the Signal
 * sessions every message reads (issue #16: they were about a third of a session's heap).
 */
export const UNCACHED_SIGNAL_KEY_TYPES: ReadonlySet<string> = new Set(['pre-key', 'app-state-sync-version', 'lid-mapping']);

/** Whether Baileys' cache key `<type>.<id>` names a type the shared cache holds. */
const cachedKey = (key: string): boolean => !UNCACHED_SIGNAL_KEY_TYPES.has(key.slice(0, key.indexOf('.')));

/** `cache` without the writes of {@link UNCACHED_SIGNAL_KEY_TYPES} (reads of them then miss). */
function signalKeyView(cache: BoundedCache): BoundedCache {
  return {
    ...cache,
    set(key, value) {
      if (cachedKey(key)) cache.set(key, value);
    },
    mset: (list) => cache.mset(list.filter(({ key }) => cachedKey(key))),
    get size() {
      return cache.size;
    },
    get bytes() {
      return cache.bytes;
    },
  };
}

/** The caches of one socket. */
export interface SocketCaches {
  signalKeys: BoundedCache;
  userDevices: BoundedCache;
  msgRetry: BoundedCache;
  placeholderResend: BoundedCache;
  callOffer: BoundedCache;
}

/** Entries held, for the metrics. */
export interface SocketCacheSizes {
  /** Per session: its current socket's entries in each cache (its share of `signalKeys` included). */
  sessions: Map<string, Record<SocketCacheName, number>>;
  /** Per session: estimated bytes its current socket's caches hold, its share of `signalKeys` included. */
  sessionBytes: Map<string, number>;
  /** The shared cache's total. */
  shared: { signalKeys: number };
}

/** Makes each socket's caches and keeps the shared ones. */
export interface SocketCacheRegistry {
  /** Fresh caches for a new socket of `sessionId`; the session's previous socket's entries go. */
  forSocket(sessionId: string): SocketCaches;
  /** Entries held now. */
  sizes(): SocketCacheSizes;
}

/** Creates the registry with its shared caches. */
export function createSocketCacheRegistry(limits: Partial<SocketCacheLimits> = {}, now: () => number = Date.now): SocketCacheRegistry {
  const bounds: SocketCacheLimits = { ...DEFAULT_SOCKET_CACHE_LIMITS, ...limits };
  const signalKeys = createBoundedCache({ ...bounds.signalKeys, now });
  const current = new Map<string, SocketCaches>();
  let generation = 0;

  return {
    forSocket(sessionId) {
      current.get(sessionId)?.signalKeys.flushAll();
      generation += 1;
      const caches: SocketCaches = {
        signalKeys: signalKeyView(namespacedCache(signalKeys, `${sessionId}#${generation}.`)),
        userDevices: createBoundedCache({ ...bounds.userDevices, now }),
        msgRetry: createBoundedCache({ ...bounds.msgRetry, now }),
        placeholderResend: createBoundedCache({ ...bounds.placeholderResend, now }),
        callOffer: createBoundedCache({ ...bounds.callOffer, now }),
      };
      current.set(sessionId, caches);
      return caches;
    },
    sizes() {
      const sessions = new Map<string, Record<SocketCacheName, number>>();
      const sessionBytes = new Map<string, number>();
      const signalBySession = new Map<string, number>();
      for (const [key, weight] of signalKeys.weights()) {
        const owner = key.slice(0, key.indexOf('#'));
        signalBySession.set(owner, (signalBySession.get(owner) ?? 0) + 1);
        sessionBytes.set(owner, (sessionBytes.get(owner) ?? 0) + weight);
      }
      for (const [sessionId, caches] of current) {
        const own = caches.userDevices.bytes + caches.msgRetry.bytes + caches.placeholderResend.bytes + caches.callOffer.bytes;
        sessionBytes.set(sessionId, (sessionBytes.get(sessionId) ?? 0) + own);
        sessions.set(sessionId, {
          signalKeys: signalBySession.get(sessionId) ?? 0,
          userDevices: caches.userDevices.size,
          msgRetry: caches.msgRetry.size,
          placeholderResend: caches.placeholderResend.size,
          callOffer: caches.callOffer.size,
        });
      }
      return { sessions, sessionBytes, shared: { signalKeys: signalKeys.size } };
    },
  };
}
