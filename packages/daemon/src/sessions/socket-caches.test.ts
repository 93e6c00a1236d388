import { describe, expect, it } from 'vitest';
import type { SignalDataSet, SignalDataTypeMap, SignalKeyStore } from '@whiskeysockets/baileys';
import { cachedSignalKeyStore } from './cached-key-store.js';
import { createSocketCacheRegistry, UNCACHED_SIGNAL_KEY_TYPES } from './socket-caches.js';

const limits = {
  signalKeys: { maxEntries: 1_000, ttlMs: 60_000 },
  userDevices: { maxEntries: 30, ttlMs: 60_000 },
  msgRetry: { maxEntries: 20, ttlMs: 60_000 },
  placeholderResend: { maxEntries: 10, ttlMs: 60_000 },
  callOffer: { maxEntries: 5, ttlMs: 60_000 },
};

describe('socket caches', () => {
  it('holds every cache within its bound with 100 sessions filling them past it', () => {
    const registry = createSocketCacheRegistry(limits);
    const sockets = Array.from({ length: 100 }, (_, i) => ({ id: `s${i}`, caches: registry.forSocket(`s${i}`) }));
    for (let n = 0; n < 100; n += 1) {
      for (const { caches } of sockets) {
        caches.signalKeys.set(`session.${n}`, { record: n });
        caches.userDevices.set(`4915${n}`, [{ device: 0 }]);
        caches.msgRetry.set(`msg${n}`, 1);
        caches.placeholderResend.set(`msg${n}`, true);
        caches.callOffer.set(`call${n}`, {});
      }
    }
    const sizes = registry.sizes();
    expect(sizes.shared.signalKeys).toBe(1_000);
    expect(sizes.sessions.size).toBe(100);
    let signalTotal = 0;
    for (const [, perSession] of sizes.sessions) {
      expect(perSession).toMatchObject({ userDevices: 30, msgRetry: 20, placeholderResend: 10, callOffer: 5 });
      signalTotal += perSession.signalKeys;
    }
    expect(signalTotal).toBe(1_000);
    // Every session holds an estimated share; together about what the caches hold.
    const bytes = [...sizes.sessionBytes.values()];
    expect(bytes).toHaveLength(100);
    for (const b of bytes) expect(b).toBeGreaterThan(0);
    expect(bytes.reduce((a, b) => a + b, 0)).toBeLessThan(100 * 70 * 1_000);
  });

  it("gives a new socket of a session empty caches and drops its predecessor's Signal keys", () => {
    const registry = createSocketCacheRegistry(limits);
    const first = registry.forSocket('shop');
    const other = registry.forSocket('other');
    first.signalKeys.set('session.1', { record: 'old account' });
    other.signalKeys.set('session.1', { record: 'other account' });
    // The device list as this account sees it (its own device left out): never another socket's.
    first.userDevices.set('15550000001', [{ device: 0 }]);
    const second = registry.forSocket('shop');
    expect(second.signalKeys.get('session.1')).toBeUndefined();
    expect(first.signalKeys.size).toBe(0);
    expect(other.signalKeys.get('session.1')).toEqual({ record: 'other account' });
    expect(second.userDevices.get('15550000001')).toBeUndefined();
    expect(other.userDevices.get('15550000001')).toBeUndefined();
    expect(registry.sizes().sessions.get('shop')).toEqual({ signalKeys: 0, userDevices: 0, msgRetry: 0, placeholderResend: 0, callOffer: 0 });
    expect(registry.sizes().shared.signalKeys).toBe(1);
  });

  it("keeps pre-keys, app-state versions and LID mappings out of the shared Signal key cache, read through to the store", async () => {
    const registry = createSocketCacheRegistry(limits);
    const caches = registry.forSocket('shop');
    // A key store that counts its reads: what the cache misses is read here.
    const stored = new Map<string, unknown>();
    let reads = 0;
    const store: SignalKeyStore = {
      get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
        reads += ids.length;
        const found: { [id: string]: SignalDataTypeMap[T] } = {};
        for (const id of ids) if (stored.has(`${type}.${id}`)) found[id] = stored.get(`${type}.${id}`) as SignalDataTypeMap[T];
        return Promise.resolve(found);
      },
      set(data: SignalDataSet) {
        for (const [type, values] of Object.entries(data)) for (const [id, value] of Object.entries(values ?? {})) stored.set(`${type}.${id}`, value);
        return Promise.resolve();
      },
    };
    const keys = cachedSignalKeyStore(store, caches.signalKeys);
    // A login's worth, past the cache's bound: 812 pre-keys, 600 LID mappings, an app-state version.
    const preKeys = Object.fromEntries(Array.from({ length: 812 }, (_, i) => [String(i + 1), { public: Buffer.alloc(32, i), private: Buffer.alloc(32, i) }]));
    const mappings = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`4915${i}`, `${900_000 + i}`]));
    await keys.set({ 'pre-key': preKeys, 'lid-mapping': mappings, 'app-state-sync-version': { regular: { version: 3, hash: Buffer.alloc(128), indexValueMap: {} } } });
    await keys.set({ session: { '4915.0': Buffer.from('record') } });
    expect([...UNCACHED_SIGNAL_KEY_TYPES].sort()).toEqual(['app-state-sync-version', 'lid-mapping', 'pre-key']);
    expect(caches.signalKeys.size).toBe(1);
    expect(registry.sizes().shared.signalKeys).toBe(1);
    // Each is still answered, from the store, every time.
    expect(await keys.get('pre-key', ['812'])).toEqual({ '812': preKeys['812'] });
    expect(await keys.get('lid-mapping', ['49150'])).toEqual({ '49150': '900000' });
    expect((await keys.get('app-state-sync-version', ['regular'])).regular).toMatchObject({ version: 3 });
    expect(reads).toBe(3);
    await keys.get('pre-key', ['812']);
    expect(reads).toBe(4);
    // A Signal session is cached: the second read does not reach the store.
    expect(await keys.get('session', ['4915.0'])).toEqual({ '4915.0': Buffer.from('record') });
    expect(reads).toBe(4);
    expect(caches.signalKeys.size).toBe(1);
  });
});
