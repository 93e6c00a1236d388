/**
 * Dashboards see the whole cluster (issue #17): the daemons' Socket.IO servers share the
 * Redis Streams adapter, so a session's status, QR and message summaries, emitted to its room
 * by the daemon that owns it, reach the dashboards subscribed at every daemon (rooms and JWT
 * scopes unchanged: a socket joins a room only through `session:subscribe`, which checks the
 * principal at the daemon that runs it). A dashboard's list on connect is the cluster's
 * registry of sessions, with this daemon's live view over the sessions it owns.
 */
import type { Session } from '@stickerbot/protocol';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Redis } from 'ioredis';
import type { ServerOptions } from 'socket.io';
import type { StoredSession } from '../storage/index.js';
import type { RedisKeys } from './redis-keys.js';
import type { RedisSessionStore } from './redis-session-store.js';

/**
 * The Socket.IO adapter of a cluster daemon: its stream and channels under the key prefix.
 * Reads block shorter than the connection's command timeout (5 s), so a quiet stream is not
 * taken for a hung Redis.
 */
export function createClusterAdapter(redis: Redis, keys: RedisKeys): NonNullable<ServerOptions['adapter']> {
  return createAdapter(redis, { streamName: `${keys.prefix}socket.io`, channelPrefix: `${keys.prefix}socket.io`, blockTimeInMs: 2_000 });
}

/** A stored session as the dashboard shows one nobody here runs (no live connection details). */
function fromStored(stored: StoredSession): Session {
  return {
    id: stored.id,
    status: stored.status,
    ...(stored.account === undefined ? {} : { account: stored.account }),
    ...(stored.lastError === undefined ? {} : { lastError: stored.lastError }),
    reconnectAttempts: 0,
    updatedAt: stored.updatedAt,
  };
}

/** Every session of the cluster: the Redis registry, with the sessions this daemon runs (`local`) as it sees them. */
export async function listClusterSessions(store: Pick<RedisSessionStore, 'list'>, local: () => readonly Session[]): Promise<Session[]> {
  const live = new Map(local().map((session) => [session.id, session]));
  const listed = (await store.list()).map((stored) => live.get(stored.id) ?? fromStored(stored));
  const known = new Set(listed.map((session) => session.id));
  return [...listed, ...[...live.values()].filter((session) => !known.has(session.id))];
}
