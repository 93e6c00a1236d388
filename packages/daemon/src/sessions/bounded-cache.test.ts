import { describe, expect, it } from 'vitest';
import { createBoundedCache, namespacedCache } from './bounded-cache.js';

function clock(start = 1_000) {
  const time = { now: start };
  return { time, now: () => time.now };
}

describe('bounded cache', () => {
  it('never holds more than maxEntries, evicting the oldest written first', () => {
    const cache = createBoundedCache({ maxEntries: 100, ttlMs: 60_000 });
    for (let i = 0; i < 10_000; i += 1) {
      cache.set(`k${i}`, { i });
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    expect(cache.size).toBe(100);
    expect(cache.get('k9899')).toBeUndefined();
    expect(cache.get('k9900')).toEqual({ i: 9900 });
    expect(cache.get('k9999')).toEqual({ i: 9999 });
  });

  it('keeps an entry rewritten lately over older ones', () => {
    const cache = createBoundedCache({ maxEntries: 3, ttlMs: 60_000 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    cache.set('a', 10);
    cache.set('d', 4);
    expect([...cache.keys()]).toEqual(['c', 'a', 'd']);
    expect(cache.get('a')).toBe(10);
  });

  it('treats entries older than ttlMs as absent and drops them when read', async () => {
    const { time, now } = clock();
    const cache = createBoundedCache({ maxEntries: 10, ttlMs: 5_000, now });
    cache.set('old', 'x');
    // A deleted Signal key is cached as null: present, not absent.
    cache.set('deleted', null);
    time.now += 4_999;
    expect(cache.get('old')).toBe('x');
    expect(cache.get('deleted')).toBeNull();
    time.now += 1;
    expect(cache.get('old')).toBeUndefined();
    expect(await cache.mget(['old', 'deleted'])).toEqual({ old: undefined, deleted: undefined });
    expect(cache.size).toBe(0);
  });

  it('supports the batch calls Baileys uses for device lists', async () => {
    const cache = createBoundedCache({ maxEntries: 2, ttlMs: 60_000 });
    cache.mset([
      { key: 'a', value: [1] },
      { key: 'b', value: [2] },
      { key: 'c', value: [3] },
    ]);
    expect(await cache.mget(['a', 'b', 'c'])).toEqual({ a: undefined, b: [2], c: [3] });
    cache.mdel(['b']);
    expect(cache.size).toBe(1);
    cache.flushAll();
    expect(cache.size).toBe(0);
  });

  it('keeps an estimate of the bytes it holds that follows writes, rewrites, evictions, deletes and views', () => {
    const cache = createBoundedCache({ maxEntries: 10, ttlMs: 60_000 });
    expect(cache.bytes).toBe(0);
    cache.set('big', Buffer.alloc(50_000));
    expect(cache.bytes).toBeGreaterThan(50_000);
    cache.set('big', Buffer.alloc(10));
    expect(cache.bytes).toBeLessThan(1_000);
    for (let i = 0; i < 50; i += 1) cache.set(`k${i}`, Buffer.alloc(1_000));
    // Ten entries of about a kilobyte: the evicted forty weigh nothing any more.
    expect(cache.bytes).toBeGreaterThan(10_000);
    expect(cache.bytes).toBeLessThan(12_500);
    expect([...cache.weights()].reduce((sum, [, weight]) => sum + weight, 0)).toBe(cache.bytes);
    cache.del('k49');
    cache.mdel(['k48', 'k47']);
    expect(cache.bytes).toBeLessThan(8_500);
    const view = namespacedCache(cache, 'a.');
    view.set('x', Buffer.alloc(2_000));
    expect(view.bytes).toBeGreaterThan(2_000);
    expect(view.bytes).toBeLessThan(2_200);
    cache.flushAll();
    expect(cache.bytes).toBe(0);
  });

  it('refuses nonsensical bounds with a clear error', () => {
    expect(() => createBoundedCache({ maxEntries: 0, ttlMs: 1 })).toThrow(/maxEntries must be a whole number of at least 1/);
    expect(() => createBoundedCache({ maxEntries: 1, ttlMs: 0 })).toThrow(/ttlMs must be greater than 0/);
  });
});

describe('namespaced view of a shared cache', () => {
  it('shares one bound between views, each seeing and flushing only its own keys', async () => {
    const shared = createBoundedCache({ maxEntries: 50, ttlMs: 60_000 });
    const views = Array.from({ length: 10 }, (_, i) => namespacedCache(shared, `s${i}#1.`));
    for (let round = 0; round < 20; round += 1) for (const [i, view] of views.entries()) view.set(`session.${round}`, `${i}/${round}`);
    expect(shared.size).toBe(50);
    expect(views.reduce((sum, view) => sum + view.size, 0)).toBe(50);
    expect(views[3]?.get('session.19')).toBe('3/19');
    expect(views[3]?.get('session.0')).toBeUndefined();
    expect(await views[4]?.mget(['session.19'])).toEqual({ 'session.19': '4/19' });
    views[3]?.flushAll();
    expect(views[3]?.size).toBe(0);
    expect(views[4]?.size).toBe(5);
    expect(shared.size).toBe(45);
    expect([...(views[4]?.keys() ?? [])]).toEqual(['session.15', 'session.16', 'session.17', 'session.18', 'session.19']);
  });
});
