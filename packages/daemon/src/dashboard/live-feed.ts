/**
 * What the dashboard shows besides the sessions' own events: the journal's consumer
 * groups (position, lag, connected workers) as `journal:status`, pushed on connect and
 * whenever it changes; the last few message summaries per session, answered by
 * `session:subscribe`; and the end of a signed-in JWT's validity, at which the daemon
 * drops the connection instead of serving a token that no longer holds.
 */
import {
  MAX_RECENT_MESSAGES,
  type DashboardClientToServerEvents,
  type DashboardServerToClientEvents,
  type JournalStatus,
  type MessageSummary,
} from '@stickerbot/protocol';
import type { Logger } from 'pino';
import type { DefaultEventsMap, Socket } from 'socket.io';
import type { DashboardNamespace, DashboardSocketData } from './namespace.js';
import type { SessionRegistry } from '../session-registry.js';
import type { Journal } from '../storage/index.js';

/** The last message summaries of every session, newest last, kept in memory. */
export interface RecentMessages {
  list(sessionId: string): MessageSummary[];
  detach(): void;
}

/** Remembers the last `limit` message summaries of each session from the registry's events. */
export function createRecentMessages(registry: SessionRegistry, limit = MAX_RECENT_MESSAGES): RecentMessages {
  const bySession = new Map<string, MessageSummary[]>();
  const onMessage = (summary: MessageSummary): void => {
    const list = bySession.get(summary.sessionId) ?? [];
    list.push(summary);
    if (list.length > limit) list.splice(0, list.length - limit);
    bySession.set(summary.sessionId, list);
  };
  registry.on('message:received', onMessage);
  return {
    list: (sessionId) => [...(bySession.get(sessionId) ?? [])],
    detach: () => void registry.off('message:received', onMessage),
  };
}

/** Collaborators of {@link attachDashboardLiveFeed}. */
export interface DashboardLiveFeedDeps {
  dashboards: DashboardNamespace;
  journal: Journal;
  /** The consumer group of every connected worker, one entry per connection. */
  workerGroups: () => Iterable<string>;
  logger: Logger;
  now: () => number;
  /** How often the journal status is compared with the last one sent (ms, default 1000). */
  statusIntervalMs?: number;
}

/** Reads the journal status: every stored group plus groups of connected workers that never acknowledged. */
export function readJournalStatus(journal: Journal, workerGroups: Iterable<string>): JournalStatus {
  const lastSeq = journal.lastSeq();
  const workers = new Map<string, number>();
  for (const group of workerGroups) workers.set(group, (workers.get(group) ?? 0) + 1);
  const positions = new Map(journal.positions().map(({ group, position }) => [group, position]));
  for (const group of workers.keys()) if (!positions.has(group)) positions.set(group, 0);
  const groups = [...positions]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([group, position]) => ({ group, position, lag: Math.max(0, lastSeq - position), workers: workers.get(group) ?? 0 }));
  return { lastSeq, groups };
}

/** Wires the journal status feed and the token-expiry cut-off; returns a function that stops both. */
export function attachDashboardLiveFeed(deps: DashboardLiveFeedDeps): { detach(): void } {
  const log = deps.logger.child({ module: 'dashboard-live' });
  const expiries = new Map<string, NodeJS.Timeout>();
  let lastSent = '';

  const status = (): JournalStatus | undefined => {
    try {
      return readJournalStatus(deps.journal, deps.workerGroups());
    } catch (err) {
      // The store closes during shutdown while a tick may still run: skip it.
      log.debug({ err }, 'journal status unavailable');
      return undefined;
    }
  };

  const tick = (): void => {
    if (deps.dashboards.sockets.size === 0) return;
    const current = status();
    if (current === undefined) return;
    const text = JSON.stringify(current);
    if (text === lastSent) return;
    lastSent = text;
    // This daemon's own dashboards: with the cluster's adapter every daemon reports to its own.
    deps.dashboards.local.emit('journal:status', current);
  };
  const timer = setInterval(tick, deps.statusIntervalMs ?? 1000);
  timer.unref();

  const onConnection = (
    socket: Socket<DashboardClientToServerEvents, DashboardServerToClientEvents, DefaultEventsMap, DashboardSocketData>,
  ): void => {
    const current = status();
    if (current !== undefined) socket.emit('journal:status', current);
    const { expiresAt } = socket.data.principal;
    if (expiresAt === undefined) return;
    // setTimeout caps at about 24.8 days; a longer token is re-checked when that fires.
    const arm = (): void => {
      const left = expiresAt - deps.now();
      if (left <= 0) {
        log.info({ subject: socket.data.principal.subject }, 'dashboard token expired; disconnecting');
        expiries.delete(socket.id);
        socket.disconnect(true);
        return;
      }
      const timeout = setTimeout(arm, Math.min(left, 2 ** 31 - 1));
      timeout.unref();
      expiries.set(socket.id, timeout);
    };
    arm();
    socket.once('disconnect', () => {
      clearTimeout(expiries.get(socket.id));
      expiries.delete(socket.id);
    });
  };
  deps.dashboards.on('connection', onConnection);

  return {
    detach() {
      clearInterval(timer);
      deps.dashboards.off('connection', onConnection);
      for (const timeout of expiries.values()) clearTimeout(timeout);
      expiries.clear();
    },
  };
}
