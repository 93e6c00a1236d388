/**
 * The registry's synchronous `SessionStore` over the cluster's registry of sessions in Redis
 * (redis-session-store.ts). The supervisor persists its state synchronously, as over SQLite;
 * here a save updates the copy in memory at once and writes Redis behind it:
 *
 * - a session whose lease this daemon holds is written fenced by that epoch (the owner's
 *   status updates: refused once the session moved, so a daemon that lost it cannot
 *   overwrite its new owner's status);
 * - a session this daemon did not know (registered here) is inserted unless Redis has it;
 * - anything else (a session another daemon runs) is not written: its owner's record stands.
 *
 * `refresh` reloads the copy from Redis (the balancer does it every round: sessions
 * registered or stopped elsewhere), keeping the records of the sessions held here, whose
 * writer this daemon is. `flush` waits for the writes under way (before a lease is
 * released, so the last status is written while the fence still lets it).
 */
import type { Logger } from 'pino';
import type { SessionStore, StoredSession } from '../storage/index.js';
import { byAge, recordOf, type RedisSessionStore, type SessionSave } from './redis-session-store.js';

/** The synchronous view; see the module comment. */
export interface RedisSessionView extends SessionStore {
  /** Reloads every record from Redis (after the writes under way); those of held sessions stay as written here. Resolves with Redis' list. */
  refresh(): Promise<StoredSession[]>;
  /** Reads one record from Redis (after the writes under way) and keeps it. */
  fetch(id: string): Promise<StoredSession | undefined>;
  /** Resolves once every write issued so far has been answered (written or refused). */
  flush(): Promise<void>;
}

/** Options of {@link createRedisSessionView}. */
export interface RedisSessionViewOptions {
  store: RedisSessionStore;
  /** The epoch of the session's lease while this daemon holds it. */
  epochOf: (sessionId: string) => number | undefined;
  logger?: Logger;
  now?: () => number;
}

/** Creates the view (empty until the first {@link RedisSessionView.refresh}). */
export function createRedisSessionView(options: RedisSessionViewOptions): RedisSessionView {
  const { store, epochOf } = options;
  const log = options.logger?.child({ module: 'session-view' });
  const now = options.now ?? Date.now;
  const records = new Map<string, StoredSession>();
  const writes = new Set<Promise<void>>();

  function track(write: Promise<unknown>, what: Record<string, unknown>): void {
    const done = write.then(
      () => undefined,
      (err: unknown) => log?.warn({ err, ...what }, 'a session record was not written to Redis'),
    );
    writes.add(done);
    void done.finally(() => writes.delete(done));
  }

  const view: RedisSessionView = {
    list: () => [...records.values()].sort(byAge),
    get: (id) => records.get(id),
    save(session: SessionSave) {
      const existing = records.get(session.id);
      const updatedAt = session.updatedAt ?? now();
      const record: StoredSession = { ...recordOf(session, updatedAt), createdAt: existing?.createdAt ?? updatedAt };
      const epoch = epochOf(session.id);
      if (epoch === undefined && existing !== undefined) {
        log?.debug({ sessionId: session.id, status: session.status }, 'not written: another daemon owns the session record');
        return record;
      }
      records.set(session.id, record);
      if (epoch === undefined) track(store.insert({ ...session, updatedAt }), { sessionId: session.id });
      else track(store.save({ ...session, updatedAt }, epoch), { sessionId: session.id, epoch });
      return record;
    },
    remove(id) {
      records.delete(id);
      track(store.remove(id), { sessionId: id });
    },
    async refresh() {
      await view.flush();
      const all = await store.list();
      const seen = new Set<string>();
      for (const record of all) {
        seen.add(record.id);
        if (epochOf(record.id) === undefined) records.set(record.id, record);
      }
      for (const id of [...records.keys()]) if (!seen.has(id) && epochOf(id) === undefined) records.delete(id);
      return all;
    },
    async fetch(id) {
      await view.flush();
      const record = await store.get(id);
      if (record) records.set(id, record);
      return record;
    },
    async flush() {
      while (writes.size > 0) await Promise.all([...writes]);
    },
  };
  return view;
}
