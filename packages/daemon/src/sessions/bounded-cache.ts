/**
 * A cache bounded by size and age, in the shape of Baileys' `CacheStore` (plus the
 * `mget`/`mset`/`mdel` of its `PossiblyExtendedCacheStore`). Baileys' own default for every
 * cache is a `NodeCache` with a TTL and no size limit: under traffic from many contacts (or a
 * hundred sessions) each grows with every distinct key seen within its TTL. This one keeps at
 * most `maxEntries`, evicting the least recently written first, and treats an entry older than
 * `ttlMs` as absent. It needs no timer: expired entries go when read or pushed out, so a cache
 * dropped with its socket leaves nothing running.
 */

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
}

/** Creates an empty cache. */
export function createBoundedCache(options: BoundedCacheOptions): BoundedCache {
  const { maxEntries, ttlMs } = options;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a whole number of at least 1 (got ${maxEntries})`);
  if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be greater than 0 (got ${ttlMs})`);
  const now = options.now ?? Date.now;
  // Insertion order is write order: the first key is the oldest written, the first to go.
  const entries = new Map<string, { value: unknown; expiresAt: number }>();

  function read<T>(key: string): T | undefined {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry.value as T;
  }

  function write(key: string, value: unknown): void {
    entries.delete(key);
    entries.set(key, { value, expiresAt: now() + ttlMs });
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next().value as string;
      entries.delete(oldest);
    }
  }

  return {
    get: read,
    set: write,
    del(key) {
      entries.delete(key);
    },
    flushAll() {
      entries.clear();
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
      for (const key of keys) entries.delete(key);
    },
    get size() {
      return entries.size;
    },
    maxEntries,
    keys: () => entries.keys(),
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
  };
  return view;
}
