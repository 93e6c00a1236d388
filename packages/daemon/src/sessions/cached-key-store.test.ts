import type { SignalDataSet, SignalDataTypeMap, SignalKeyStore } from '@whiskeysockets/baileys';
import { describe, expect, it } from 'vitest';
import { createBoundedCache } from './bounded-cache.js';
import { cachedSignalKeyStore } from './cached-key-store.js';

type Found = { [id: string]: SignalDataTypeMap['session'] };

/** A synchronous key store over a map, as the daemon's SQLite store is, counting its reads. */
function mapStore() {
  const stored = new Map<string, unknown>();
  const reads: string[] = [];
  const store = {
    get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
      const found: { [id: string]: SignalDataTypeMap[T] } = {};
      for (const id of ids) {
        reads.push(`${type}.${id}`);
        if (stored.has(`${type}.${id}`)) found[id] = stored.get(`${type}.${id}`) as SignalDataTypeMap[T];
      }
      return found;
    },
    set(data: SignalDataSet) {
      for (const [type, values] of Object.entries(data)) {
        for (const [id, value] of Object.entries(values ?? {})) {
          if (value) stored.set(`${type}.${id}`, value);
          else stored.delete(`${type}.${id}`);
        }
      }
    },
  } satisfies SignalKeyStore;
  return { store, stored, reads };
}

const cache = () => createBoundedCache({ maxEntries: 100, ttlMs: 60_000 });
const isThenable = (value: unknown) => typeof (value as { then?: unknown } | undefined)?.then === 'function';

describe('cachedSignalKeyStore', () => {
  it('answers at once from a synchronous store, reads each key from it once, and writes through', () => {
    const { store, stored, reads } = mapStore();
    stored.set('session.a', Buffer.from('record a'));
    const keys = cachedSignalKeyStore(store, cache());

    const first = keys.get('session', ['a', 'b']);
    // No promise, no mutex: the hot path of every message runs in the caller's turn.
    expect(isThenable(first)).toBe(false);
    expect(first).toEqual({ a: Buffer.from('record a') });
    expect(keys.get('session', ['a'])).toEqual({ a: Buffer.from('record a') });
    // `a` came from the cache the second time; `b` (absent) is asked again, as Baileys' wrapper does.
    expect(reads).toEqual(['session.a', 'session.b']);

    expect(isThenable(keys.set({ session: { a: Buffer.from('record a2'), b: Buffer.from('record b') } }))).toBe(false);
    expect(stored.get('session.a')).toEqual(Buffer.from('record a2'));
    expect(keys.get('session', ['a', 'b'])).toEqual({ a: Buffer.from('record a2'), b: Buffer.from('record b') });
    expect(reads).toHaveLength(2);
  });

  it('answers a deleted key from the cache as deleted, and clear empties both', async () => {
    const { store, stored, reads } = mapStore();
    const bounded = cache();
    const keys = cachedSignalKeyStore({ ...store, clear: () => stored.clear() }, bounded);
    await keys.set({ 'pre-key': { '7': { public: Buffer.alloc(32, 1), private: Buffer.alloc(32, 2) } } });
    await keys.set({ 'pre-key': { '7': null } });
    expect(stored.has('pre-key.7')).toBe(false);
    expect(await keys.get('pre-key', ['7'])).toEqual({ '7': null });
    expect(reads).toEqual([]);

    await keys.set({ session: { a: Buffer.from('record') } });
    await keys.clear?.();
    expect(stored.size).toBe(0);
    expect(bounded.size).toBe(0);
    expect(await keys.get('session', ['a'])).toEqual({});
  });

  it('keeps the order of operations with a store that answers later: a read that missed never caches what a later write replaced', async () => {
    const { store, stored } = mapStore();
    stored.set('session.a', Buffer.from('old'));
    // The store reads when asked and answers only when the test says so (a Redis round trip).
    const pending: Array<() => void> = [];
    const slow: SignalKeyStore = {
      get: (type, ids) => {
        const answer = store.get(type, ids);
        return new Promise((resolve) => pending.push(() => resolve(answer)));
      },
      set: (data) => Promise.resolve(store.set(data)),
    };
    const keys = cachedSignalKeyStore(slow, cache());

    const read = keys.get('session', ['a']) as Promise<Found>;
    const write = keys.set({ session: { a: Buffer.from('new') } });
    const reread = keys.get('session', ['a']) as Promise<Found>;
    expect(isThenable(read)).toBe(true);
    await Promise.resolve();
    // The write waits for the read in flight; the store has not been written yet.
    expect(stored.get('session.a')).toEqual(Buffer.from('old'));
    expect(pending).toHaveLength(1);
    pending.shift()?.();
    expect(await read).toEqual({ a: Buffer.from('old') });
    await write;
    expect(stored.get('session.a')).toEqual(Buffer.from('new'));
    // Answered from the cache the write filled, not the stale value the first read fetched.
    expect(await reread).toEqual({ a: Buffer.from('new') });
    expect(await keys.get('session', ['a'])).toEqual({ a: Buffer.from('new') });
    expect(pending).toHaveLength(0);
  });

  it('goes on after a store that failed: the failure reaches its caller only', async () => {
    const { store } = mapStore();
    let fail = true;
    const flaky: SignalKeyStore = {
      get: (type, ids) => (fail ? Promise.reject(new Error('store down')) : store.get(type, ids)),
      set: (data) => store.set(data),
    };
    const keys = cachedSignalKeyStore(flaky, cache());
    const failed = keys.get('session', ['a']);
    const next = keys.set({ session: { b: Buffer.from('b') } });
    await expect(failed).rejects.toThrow('store down');
    await next;
    fail = false;
    expect(await keys.get('session', ['a', 'b'])).toEqual({ b: Buffer.from('b') });
  });
});
