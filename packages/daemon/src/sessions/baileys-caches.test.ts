/**
 * The caches Baileys keeps inside a socket that its options cannot replace, bounded by our
 * patch (patches/@whiskeysockets__baileys@7.0.0-rc14.patch): each filled past its bound
 * stays at it, and what it dropped is still answered from where it came from. And what the
 * patch keeps from outliving its use: purge timers per cache entry, and the Signal keys of a
 * key-store transaction that ended.
 */
import { AsyncResource } from 'node:async_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { addTransactionCapability } from '@whiskeysockets/baileys';
import { LID_MAPPING_CACHE_MAX, LIDMappingStore } from '@whiskeysockets/baileys/lib/Signal/lid-mapping.js';
import { MIGRATED_SESSION_CACHE_MAX, makeMigratedSessionCache } from '@whiskeysockets/baileys/lib/Signal/libsignal.js';
import { MessageRetryManager, RETRY_TRACKING_MAX } from '@whiskeysockets/baileys/lib/Utils/message-retry-manager.js';
import { createLogger } from '@stickerbot/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../storage/index.js';

const logger = createLogger({ service: 'test', level: 'silent' });
/** The size of a private LRU cache of a Baileys object. */
const sizeOf = (owner: object, field: string): number => (owner as Record<string, { size: number }>)[field]?.size ?? Number.NaN;

/** Counts the `setTimeout` calls `work` makes (lru-cache arms its timers through the global). */
async function timersArmedBy(work: () => Promise<void>): Promise<number> {
  const original = globalThis.setTimeout;
  let armed = 0;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    armed += 1;
    return original(...args);
  }) as typeof setTimeout;
  try {
    await work();
  } finally {
    globalThis.setTimeout = original;
  }
  return armed;
}

/** A full garbage collection (`--expose-gc` set at run time reaches contexts made after it). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

let dir: string | undefined;
let storage: Storage | undefined;
afterEach(() => {
  storage?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  storage = undefined;
  dir = undefined;
});

/** Opens a storage in a new directory (closed after the test); its key store for `sessionId`, with Baileys' transactions. */
function openKeys(sessionId = 'main'): ReturnType<typeof addTransactionCapability> {
  dir = mkdtempSync(join(tmpdir(), 'stickerbot-baileys-caches-'));
  storage = openStorage(dir);
  return withTransactions(sessionId);
}

/** The open storage's auth store. */
function auth(): Storage['auth'] {
  if (!storage) throw new Error('no storage open');
  return storage.auth;
}

/** The session's key store in the open storage, with Baileys' transactions over it. */
function withTransactions(sessionId: string): ReturnType<typeof addTransactionCapability> {
  return addTransactionCapability(auth().open(sessionId).state.keys, logger, { maxCommitRetries: 1, delayBetweenTriesMs: 1 });
}

describe("Baileys' own caches, bounded by the patch", () => {
  it('keeps at most LID_MAPPING_CACHE_MAX LID mappings in memory and reads a dropped one back from the key store', async () => {
    const store = new LIDMappingStore(openKeys(), logger);
    const contacts = LID_MAPPING_CACHE_MAX; // two entries each (pn → lid, lid → pn): twice the bound
    const pairs = Array.from({ length: contacts }, (_, i) => ({ lid: `${900_000 + i}@lid`, pn: `49151${String(i).padStart(6, '0')}@s.whatsapp.net` }));
    for (let i = 0; i < pairs.length; i += 500) await store.storeLIDPNMappings(pairs.slice(i, i + 500));
    expect(sizeOf(store, 'mappingCache')).toBe(LID_MAPPING_CACHE_MAX);
    // The first contacts went out of the cache; the key store still answers for them.
    expect(await store.getLIDForPN(pairs[0]?.pn ?? '')).toBe(pairs[0]?.lid);
    expect(auth().phoneOfLid('main', pairs[1]?.lid ?? '')).toBe(pairs[1]?.pn);
    expect(sizeOf(store, 'mappingCache')).toBe(LID_MAPPING_CACHE_MAX);
  });

  it('arms no timer per LID mapping stored or read (a 3-day purge timer each, re-armed on every read, before the patch)', async () => {
    const store = new LIDMappingStore(openKeys(), logger);
    const pairs = Array.from({ length: 500 }, (_, i) => ({ lid: `${700_000 + i}@lid`, pn: `49152${String(i).padStart(6, '0')}@s.whatsapp.net` }));
    const armed = await timersArmedBy(async () => {
      await store.storeLIDPNMappings(pairs);
      for (let round = 0; round < 2; round += 1) {
        for (const { lid, pn } of pairs) expect(await store.getLIDForPN(pn)).toBe(lid);
      }
    });
    // 1,000 entries and 1,000 reads: at most the cache's one-second clock, never one per entry.
    expect(armed).toBeLessThan(10);
  });

  it('keeps at most MIGRATED_SESSION_CACHE_MAX migrated-session markers', () => {
    const cache = makeMigratedSessionCache();
    for (let i = 0; i < MIGRATED_SESSION_CACHE_MAX * 2; i += 1) cache.set(`${i}@lid`, true);
    expect(cache.size).toBe(MIGRATED_SESSION_CACHE_MAX);
    // Least recently used out first.
    expect(cache.get('0@lid')).toBeUndefined();
    expect(cache.get(`${MIGRATED_SESSION_CACHE_MAX * 2 - 1}@lid`)).toBe(true);
  });

  it("drops a key-store transaction's keys when it ends, though a timer made inside it lives on, and writes from that timer reach the store", async () => {
    const keys = openKeys();
    await keys.set({ session: { 'a.0': new Uint8Array(64 * 1024).fill(1) } });
    let read: WeakRef<Uint8Array> | undefined;
    // Stands for a purge timer armed inside the transaction: it keeps the transaction's context.
    let outlivesIt: AsyncResource | undefined;
    await keys.transaction(async () => {
      const session = (await keys.get('session', ['a.0']))['a.0'];
      if (!session) throw new Error('the session written before the transaction is not there');
      read = new WeakRef(session);
      outlivesIt = new AsyncResource('stickerbot.test');
      expect(keys.isInTransaction()).toBe(true);
    }, 'a');
    if (!outlivesIt || !read) throw new Error('the transaction did not run');
    const late = outlivesIt;
    expect(late.runInAsyncScope(() => keys.isInTransaction())).toBe(false);
    // Before the patch this write went to the ended transaction's uncommitted mutations: lost.
    await late.runInAsyncScope(() => keys.set({ session: { 'b.0': Buffer.from([7]) } }));
    expect((await keys.get('session', ['b.0']))['b.0']).toEqual(Buffer.from([7]));
    // The session the transaction read is garbage once it ended, though `late` is still alive.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(read.deref()).toBeUndefined();
    expect(late.asyncId()).toBeGreaterThan(0);
  });

  it('makes one AsyncLocalStorage for the transactions of every key store, not one more per socket, and keeps each store to its own', async () => {
    openKeys();
    /** The properties Node copies onto every async resource: one per enabled AsyncLocalStorage. */
    const propertiesOfATimer = (): number => {
      const timer = setTimeout(() => undefined, 1);
      clearTimeout(timer);
      return Object.getOwnPropertySymbols(timer).length;
    };
    const stores = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map(withTransactions);
    const [a, b] = stores;
    if (!a || !b) throw new Error('no stores');
    await a.transaction(() => Promise.resolve(), 'warm-up'); // the shared storage is enabled now
    const before = propertiesOfATimer();
    for (const keys of stores) await keys.transaction(() => Promise.resolve(), 'x');
    expect(propertiesOfATimer()).toBe(before);

    // Inside a's transaction b is in none; b's own transaction nested in it commits b's writes.
    await a.transaction(async () => {
      expect(a.isInTransaction()).toBe(true);
      expect(b.isInTransaction()).toBe(false);
      await a.set({ session: { 'a.1': Buffer.from([1]) } });
      await b.transaction(async () => {
        expect(a.isInTransaction()).toBe(true);
        await b.set({ session: { 'b.1': Buffer.from([2]) } });
      }, 'b');
      expect(auth().open('b').state.keys.get('session', ['b.1'])).toEqual({ 'b.1': Buffer.from([2]) });
      // a's write waits for the end of a's transaction.
      expect(auth().open('a').state.keys.get('session', ['a.1'])).toEqual({});
    }, 'a');
    expect(auth().open('a').state.keys.get('session', ['a.1'])).toEqual({ 'a.1': Buffer.from([1]) });
  });

  it('keeps at most RETRY_TRACKING_MAX retry counters and session-recreation times', () => {
    const manager = new MessageRetryManager(logger, 5);
    for (let i = 0; i < RETRY_TRACKING_MAX * 3; i += 1) {
      manager.incrementRetryCount(`MSG${i}`);
      manager.shouldRecreateSession(`${i}@s.whatsapp.net`, false);
    }
    expect(sizeOf(manager, 'retryCounters')).toBe(RETRY_TRACKING_MAX);
    expect(sizeOf(manager, 'sessionRecreateHistory')).toBe(RETRY_TRACKING_MAX);
    expect(manager.getRetryCount(`MSG${RETRY_TRACKING_MAX * 3 - 1}`)).toBe(1);
    expect(manager.getRetryCount('MSG0')).toBe(0);
  });
});
