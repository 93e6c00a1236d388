/**
 * The Signal key store Baileys reads and writes on every message, with the daemon's bounded
 * cache in front: Baileys' `makeCacheableSignalKeyStore` without its mutex. Baileys' wrapper
 * serialises every read and write of a socket behind one mutex and awaits each cache lookup,
 * because its cache and its store may answer later; with the daemon's SQLite store and
 * bounded cache both answer at once, so that was a mutex, a chain of promises and a queue for
 * every read on the hottest path. Here an operation whose store answers at once runs whole in
 * one turn of the event loop (nothing can come between a miss and its filling of the cache)
 * and answers a plain value; an operation whose store answers with a promise (Redis,
 * in cluster mode) holds the others back until it settled, as Baileys' mutex did.
 *
 * Measured (issue #16, `pnpm bench:sessions --real 50`, two runs each, interleaved): 10% fewer
 * scavenges for the same traffic (1,098-1,099 against 1,213-1,225), the main thread's time per
 * message within the runs' spread (5.71-5.99 ms against 5.82-6.31).
 *
 * The behaviour is Baileys' otherwise: a value read from the store is cached; a set writes the
 * cache, then the store; a falsy value (a delete) is cached as it is, so a read answers it.
 */
import type { SignalDataSet, SignalDataTypeMap, SignalKeyStore } from '@whiskeysockets/baileys';
import type { BoundedCache } from './bounded-cache.js';
import { createInOrder, isPromise } from './maybe-promise.js';

type KeyType = keyof SignalDataTypeMap;
type Found<T extends KeyType> = { [id: string]: SignalDataTypeMap[T] };

/** `store` behind `cache` (Baileys' cache key: `<type>.<id>`). */
export function cachedSignalKeyStore(store: SignalKeyStore, cache: BoundedCache): SignalKeyStore {
  const inOrder = createInOrder();
  return {
    get<T extends KeyType>(type: T, ids: string[]) {
      return inOrder(() => {
        const found: Found<T> = {};
        const missing: string[] = [];
        for (const id of ids) {
          const item = cache.get<SignalDataTypeMap[T]>(`${type}.${id}`);
          if (item === undefined) missing.push(id);
          else found[id] = item;
        }
        if (missing.length === 0) return found;
        const fill = (fetched: Found<T>): Found<T> => {
          for (const id of missing) {
            const item = fetched[id];
            if (!item) continue;
            found[id] = item;
            cache.set(`${type}.${id}`, item);
          }
          return found;
        };
        const fetched = store.get(type, missing);
        return isPromise(fetched) ? fetched.then(fill) : fill(fetched);
      });
    },
    set(data: SignalDataSet) {
      return inOrder(() => {
        for (const type of Object.keys(data) as KeyType[]) {
          for (const [id, value] of Object.entries(data[type] ?? {})) cache.set(`${type}.${id}`, value);
        }
        return store.set(data);
      });
    },
    clear() {
      return inOrder(() => {
        cache.flushAll();
        return store.clear?.();
      });
    },
  };
}
