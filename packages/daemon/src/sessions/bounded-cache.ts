/**
 * A cache bounded by size and age, in the shape of Baileys' `CacheStore` (plus the
 * `mget`/`mset`/`mdel` of its `PossiblyExtendedCacheStore`). Baileys' own default for every
 * cache is a `NodeCache` with a TTL and no size limit: under traffic from many contacts (or a
 * hundred sessions) each grows with every distinct key seen within its TTL. This one keeps at
 * most `maxEntries`, evicting the least recently written first, and treats an entry older than
 * `ttlMs` as absent. It needs no timer: expired entries go when read or pushed out, so a cache
 * dropped with its socket leaves nothing running. Each entry is weighed as it is written
 * (`estimate-bytes.ts`), for the per-session memory metric.
 */
import { estimateBytes } from './estimate-bytes.js';

/** What the map entry, the entry record and its expiry cost besides the key and the value. */
const ENTRY_OVERHEAD = 80;

/** Bounds of one {@link BoundedCache}. */
export interface BoundedCacheOptions {
  /** Most entries kept; the oldest written go first. */
  maxEntries: number;
  /** Age after which an entry counts as absent (ms). */
  ttlMs: number;
  /** Clock (epoch ms; tests). */
  now?: () => number;
}

/** A size- and age-bounded key-value cache that fits Baileys' cache options. */
export interface BoundedCache {
  get<T>(key: string): T | undefined;
  set<T>(key: string, value: T): void;
  del(key: string): void;
  flushAll(): void;
  mget<T>(keys: string[]): Promise<Record<string, T | undefined>>;
  mset<T>(entries: { key: string; value: T }[]): void;
  mdel(keys: string[]): void;
  /** Entries held (expired ones not yet swept included). */
  readonly size: number;
  /** The bound on {@link BoundedCache.size}. */
  readonly maxEntries: number;
  /** Every key held, oldest written first. */
  keys(): IterableIterator<string>;
  /** Estimated bytes of everything held (keys, values, bookkeeping). */
  readonly bytes: number;
  /** Each key held with its estimated bytes, oldest written first. */
  weights(): IterableIterator<[string, number]>;
}

/** Creates an empty cache. */
export function createBoundedCache(options: BoundedCacheOptions): BoundedCache {
  const { maxEntries, ttlMs } = options;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a whole number of at least 1 (got ${maxEntries})`);
  if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be greater than 0 (got ${ttlMs})`);
  const now = options.now ?? Date.now;
  // Insertion order is write order: the first key is the oldest written, the first to go.
  const entries = new Map<string, { value: unknown; expiresAt: number; bytes: number }>();
  let bytes = 0;

  function drop(key: string): void {
    const entry = entries.get(key);
    if (!entry) return;
    bytes -= entry.bytes;
    entries.delete(key);
  }

  function read<T>(key: string): T | undefined {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now()) {
      drop(key);
      return undefined;
    }
    return entry.value as T;
  }

  function write(key: string, value: unknown): void {
    drop(key);
    const weight = ENTRY_OVERHEAD + key.length + estimateBytes(value);
    entries.set(key, { value, expiresAt: now() + ttlMs, bytes: weight });
    bytes += weight;
    while (entries.size > maxEntries) drop(entries.keys().next().value as string);
  }

  return {
    get: read,
    set: write,
    del: drop,
    flushAll() {
      entries.clear();
      bytes = 0;
    },
    mget<T>(keys: string[]) {
      const found: Record<string, T | undefined> = {};
      for (const key of keys) found[key] = read<T>(key);
      return Promise.resolve(found);
    },
    mset(list) {
      for (const { key, value } of list) write(key, value);
    },
    mdel(keys) {
      for (const key of keys) drop(key);
    },
    get size() {
      return entries.size;
    },
    maxEntries,
    keys: () => entries.keys(),
    get bytes() {
      return bytes;
    },
    *weights() {
      for (const [key, entry] of entries) yield [key, entry.bytes];
    },
  };
}

/**
 * A view of `shared` whose keys are prefixed with `prefix`: one bound shared by many
 * sessions, each seeing only its own entries. `flushAll` empties this view only.
 */
export function namespacedCache(shared: BoundedCache, prefix: string): BoundedCache {
  const own = (key: string) => `${prefix}${key}`;
  const view: BoundedCache = {
    get: (key) => shared.get(own(key)),
    set: (key, value) => shared.set(own(key), value),
    del: (key) => shared.del(own(key)),
    flushAll() {
      for (const key of [...shared.keys()]) if (key.startsWith(prefix)) shared.del(key);
    },
    async mget<T>(keys: string[]) {
      const found: Record<string, T | undefined> = {};
      for (const key of keys) found[key] = shared.get<T>(own(key));
      return Promise.resolve(found);
    },
    mset: (list) => shared.mset(list.map(({ key, value }) => ({ key: own(key), value }))),
    mdel: (keys) => shared.mdel(keys.map(own)),
    get size() {
      let count = 0;
      for (const key of shared.keys()) if (key.startsWith(prefix)) count += 1;
      return count;
    },
    maxEntries: shared.maxEntries,
    *keys() {
      for (const key of shared.keys()) if (key.startsWith(prefix)) yield key.slice(prefix.length);
    },
    get bytes() {
      let sum = 0;
      for (const [key, weight] of shared.weights()) if (key.startsWith(prefix)) sum += weight;
      return sum;
    },
    *weights() {
      for (const [key, weight] of shared.weights()) if (key.startsWith(prefix)) yield [key.slice(prefix.length), weight];
    },
  };
  return view;
}
