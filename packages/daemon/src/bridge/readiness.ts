/**
 * Builds the `/readyz` report: ready when the store is open, the daemon is running and
 * the journal is not full. Sessions' states are reported but do not make the daemon
 * unready: a session waiting for its QR is a normal, serviceable state.
 *
 * In cluster mode the journal is the Redis one, and its facts come from a cache refreshed
 * in the background ({@link createClusterFacts}), so `/readyz` never waits on Redis; a daemon
 * whose Redis does not answer (the last refresh failed, or none succeeded lately) is not ready.
 */
import type { Logger } from 'pino';
import type { ReadinessReport } from './health-routes.js';
import type { SessionRegistry } from '../session-registry.js';
import type { RedisJournal } from '../cluster/redis-journal.js';

/** What `/readyz` and `/metrics` read of a journal, synchronously (the SQLite journal fits). */
export interface JournalFacts {
  /** Highest `seq` appended. */
  lastSeq(): number;
  /** Entries held. */
  count(): number;
  /** Every group's acknowledged position and, when the journal knows it, what it still has to handle. */
  positions(): ReadonlyArray<{ group: string; position: number; unacknowledged?: number }>;
}

/** This daemon's part in the cluster, as `/readyz?verbose` and `/metrics` report it. */
export interface ClusterFacts {
  daemonId: string;
  /** Whether Redis answered the last refresh, in time. */
  redisReachable: boolean;
  /** Why it did not (the last refresh's error). */
  redisError?: string;
  /** When Redis last answered (epoch ms), or `null` before the first answer. */
  checkedAt: number | null;
  /** Sessions running here. */
  owned: string[];
  /** Live daemons (the membership, as last read), sorted. */
  liveDaemons: string[];
}

/** Collaborators of {@link createReadiness}. */
export interface ReadinessDeps {
  isStoreOpen: () => boolean;
  isRunning: () => boolean;
  /** The journal's facts; `undefined` while they are not known (cluster mode before the first refresh). */
  journal: JournalFacts | (() => JournalFacts | undefined);
  registry: SessionRegistry;
  /** The last retention pass: `full` when unacknowledged entries passed the bound, `ok: false` also when it failed. */
  retention: () => { ok: boolean; full: boolean; lastError?: string };
  /** Cluster mode only: this daemon's part in the cluster. */
  cluster?: () => ClusterFacts;
}

/** Returns the function `/readyz` calls. */
export function createReadiness(deps: ReadinessDeps): () => ReadinessReport {
  const journalFacts = typeof deps.journal === 'function' ? deps.journal : () => deps.journal as JournalFacts;
  return () => {
    const problems: string[] = [];
    const store = deps.isStoreOpen();
    const running = deps.isRunning();
    if (!store) problems.push('the SQLite store is closed');
    if (!running) problems.push('the daemon is starting or shutting down');
    const cluster = deps.cluster?.();
    if (cluster && !cluster.redisReachable) problems.push(`Redis does not answer: ${cluster.redisError ?? 'not reached yet'}`);
    let journal: ReadinessReport['checks']['journal'] = null;
    const facts = store ? journalFacts() : undefined;
    if (facts) {
      const lastSeq = facts.lastSeq();
      const retention = deps.retention();
      const full = retention.full;
      if (full) problems.push('the journal is full: a consumer group is not acknowledging (see the logs)');
      else if (!retention.ok) problems.push(`journal retention failed: ${retention.lastError ?? 'see the logs'}`);
      journal = {
        lastSeq,
        entries: facts.count(),
        full,
        groups: facts.positions().map(({ group, position, unacknowledged }) => ({
          group,
          position,
          lag: lastSeq - position,
          ...(unacknowledged === undefined ? {} : { unacknowledged }),
        })),
      };
    }
    const sessions = deps.registry
      .list()
      .map(({ id, status, lastDisconnect, lastError, reconnectAttempts, nextRetryAt, queuedAt }) => ({ id, status, lastDisconnect, lastError, reconnectAttempts, nextRetryAt, queuedAt }));
    return {
      ready: problems.length === 0,
      problems,
      checks: { store, running, journal, ...(cluster ? { cluster } : {}) },
      sessions,
    };
  };
}

/** Options of {@link createClusterFacts}. */
export interface ClusterFactsOptions {
  journal: Pick<RedisJournal, 'lastSeq' | 'count' | 'positions'>;
  daemonId: string;
  /** The live daemons (the node's membership, `ClusterNode.liveDaemons`). */
  liveDaemons: () => Promise<string[]>;
  /** Sessions running here (read at every report, no Redis round trip). */
  owned: () => string[];
  /** How often Redis is read (default 2 s). */
  intervalMs?: number;
  /** How long a refresh may take before Redis counts as unreachable (default the interval). */
  timeoutMs?: number;
  logger?: Logger;
  /** Clock (epoch ms), for tests. */
  now?: () => number;
}

/** The cluster's facts and the Redis journal's, cached; see {@link createClusterFacts}. */
export interface ClusterFactsCache {
  /** The Redis journal's facts as last read, or `undefined` before the first read. */
  journal(): JournalFacts | undefined;
  /** This daemon's part in the cluster; Redis counts as reachable only while refreshes succeed in time. */
  cluster(): ClusterFacts;
  /** Reads Redis now (or joins the read under way); never rejects (a failure is in {@link cluster}). */
  refresh(): Promise<void>;
  /** Refreshes now and on every interval (unref'd timer; idempotent). */
  start(): void;
  stop(): void;
}

/**
 * Keeps the Redis journal's facts (`lastSeq`, entries, each group's position and what it
 * still has to handle) and the live daemons in memory, read on an interval: `/readyz` and
 * `/metrics` read the cache. A refresh that fails or takes longer than `timeoutMs` (Redis
 * down: ioredis queues the commands until it reconnects) marks Redis unreachable until one
 * succeeds; one never overlaps another.
 */
export function createClusterFacts(options: ClusterFactsOptions): ClusterFactsCache {
  const { journal, daemonId } = options;
  const intervalMs = options.intervalMs ?? 2_000;
  const timeoutMs = options.timeoutMs ?? intervalMs;
  const now = options.now ?? Date.now;
  const log = options.logger?.child({ module: 'cluster-facts' });
  let snapshot: { lastSeq: number; entries: number; groups: Array<{ group: string; position: number; unacknowledged: number }> } | undefined;
  let liveDaemons: string[] = [];
  let checkedAt: number | null = null;
  let error: string | undefined = 'not reached yet';
  let pending: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  async function read(): Promise<void> {
    const [lastSeq, entries, groups, live] = await Promise.all([journal.lastSeq(), journal.count(), journal.positions(), options.liveDaemons()]);
    snapshot = { lastSeq, entries, groups };
    liveDaemons = live;
  }

  function refresh(): Promise<void> {
    pending ??= (async () => {
      let timeout: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          read(),
          new Promise<never>((_, reject) => {
            timeout = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        if (error !== undefined && checkedAt !== null) log?.info('Redis answers again');
        checkedAt = now();
        error = undefined;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (error === undefined) log?.warn({ err }, 'Redis does not answer: not ready');
        error = message;
      } finally {
        clearTimeout(timeout);
      }
    })().finally(() => {
      pending = undefined;
    });
    return pending;
  }

  return {
    journal() {
      const current = snapshot;
      if (!current) return undefined;
      return { lastSeq: () => current.lastSeq, count: () => current.entries, positions: () => current.groups };
    },
    cluster() {
      // A refresh still hanging past the timeout is caught by its race; this is for a stopped timer too.
      const stale = checkedAt !== null && now() - checkedAt > intervalMs + 2 * timeoutMs;
      const reachable = error === undefined && !stale;
      return {
        daemonId,
        redisReachable: reachable,
        ...(reachable ? {} : { redisError: error ?? `no answer since ${new Date(checkedAt ?? 0).toISOString()}` }),
        checkedAt,
        owned: options.owned(),
        liveDaemons,
      };
    },
    refresh,
    start() {
      if (timer) return;
      void refresh();
      timer = setInterval(() => void refresh(), intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
