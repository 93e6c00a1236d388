import { describe, expect, it } from 'vitest';
import { createSocketCacheRegistry } from './socket-caches.js';

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
    first.signalKeys.set('pre-key.1', { private: 'old account' });
    other.signalKeys.set('pre-key.1', { private: 'other account' });
    // The device list as this account sees it (its own device left out): never another socket's.
    first.userDevices.set('15550000001', [{ device: 0 }]);
    const second = registry.forSocket('shop');
    expect(second.signalKeys.get('pre-key.1')).toBeUndefined();
    expect(first.signalKeys.size).toBe(0);
    expect(other.signalKeys.get('pre-key.1')).toEqual({ private: 'other account' });
    expect(second.userDevices.get('15550000001')).toBeUndefined();
    expect(other.userDevices.get('15550000001')).toBeUndefined();
    expect(registry.sizes().sessions.get('shop')).toEqual({ signalKeys: 0, userDevices: 0, msgRetry: 0, placeholderResend: 0, callOffer: 0 });
    expect(registry.sizes().shared.signalKeys).toBe(1);
  });
});
