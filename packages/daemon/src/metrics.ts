import { SESSION_STATUSES, type JournalEntry, type SessionStatus } from '@stickerbot/protocol';
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClusterFacts, JournalFacts } from './bridge/readiness.js';

/** What the metrics read of a journal (the SQLite journal fits, and the Redis journal's cached facts). */
export type MetricsJournal = Pick<JournalFacts, 'lastSeq' | 'positions'>;

/** Where the metrics read values that are cheaper to compute at scrape time than to track. */
export interface MetricsSources {
  /**
   * The journal: lag per group is `lastSeq - position`, read at every scrape; a function for
   * facts that may not be known yet (the Redis journal's cache before its first read).
   */
  journal?: MetricsJournal | (() => MetricsJournal | undefined);
  /** Cluster mode only: this daemon's part in the cluster (adds the `stickerbot_cluster_*` and `stickerbot_redis_up` gauges). */
  cluster?: () => ClusterFacts;
  /** The sessions' states, counted at every scrape. */
  sessions?: () => readonly { status: SessionStatus }[];
  /** Entries in the caches each session holds, and in those shared by all, read at every scrape. */
  caches?: () => CacheEntryCounts;
  /** The process's memory (default `process.memoryUsage`; tests pass figures). */
  memory?: () => NodeJS.MemoryUsage;
  /** Where its resident memory is (default {@link readResidentMemory}; tests pass figures). */
  resident?: () => ResidentMemory;
}

/**
 * Resident memory beyond `process.memoryUsage()`. RSS minus `rssFile` is anonymous memory;
 * `rssAnon − heapPhysical` is what malloc (SQLite, OpenSSL, zlib, Node's own) and thread stacks hold.
 */
export interface ResidentMemory {
  /** Bytes of V8's heap pages that are resident (`v8.getHeapStatistics().total_physical_size`; `heapTotal` is what V8 committed). */
  heapPhysical: number;
  /** Anonymous resident bytes (`RssAnon` of /proc/self/status): V8's heap, malloc, thread stacks. Linux only. */
  rssAnon?: number;
  /** Resident bytes of mapped files (`RssFile`: Node's binary, native modules). Linux only. */
  rssFile?: number;
}

/** The `kind` labels of `stickerbot_memory_bytes` from {@link ResidentMemory}. */
export const RESIDENT_KINDS = ['heapPhysical', 'rssAnon', 'rssFile'] as const;

/** Reads this process's {@link ResidentMemory} (a small /proc file and V8's counters: cheap at every scrape). */
export function readResidentMemory(): ResidentMemory {
  const resident: ResidentMemory = { heapPhysical: getHeapStatistics().total_physical_size };
  let status = '';
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return resident; // not Linux
  }
  const kb = (field: string) => new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
  const anon = kb('RssAnon');
  const file = kb('RssFile');
  if (anon !== undefined) resident.rssAnon = Number(anon) * 1024;
  if (file !== undefined) resident.rssFile = Number(file) * 1024;
  return resident;
}

/** Cache entries by session and cache name, and of the caches shared across sessions. */
export interface CacheEntryCounts {
  sessions: ReadonlyMap<string, Readonly<Record<string, number>>>;
  /** Per session: estimated bytes its caches hold (absent: no `stickerbot_session_memory_bytes`). */
  sessionBytes?: ReadonlyMap<string, number>;
  shared: Readonly<Record<string, number>>;
}

/** The `kind` labels of `stickerbot_memory_bytes`, from `process.memoryUsage()`. */
export const MEMORY_KINDS = ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'] as const;

/** Options of {@link createMetrics}. */
export interface MetricsOptions extends MetricsSources {
  /** Also collect prom-client's default process metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
}

/** Upper bounds of the command latency buckets, in seconds (sends may take 30 s, downloads 60 s). */
export const COMMAND_LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

/**
 * The daemon's Prometheus metrics, on a registry of their own (no prom-client global), as
 * served by `GET /metrics`:
 *
 * | metric | type | labels |
 * | --- | --- | --- |
 * | `stickerbot_sessions` | gauge | `state` (every state, 0 included) |
 * | `stickerbot_events_journaled_total` | counter | `session`, `type` |
 * | `stickerbot_events_delivered_total` | counter | `group` |
 * | `stickerbot_journal_lag` | gauge | `group`: entries appended but not acknowledged |
 * | `stickerbot_command_duration_seconds` | histogram | `op`, `outcome` (`ok`, `replayed` or an error code) |
 * | `stickerbot_reconnects_total` | counter | `reason` (Baileys `DisconnectReason` name) |
 * | `stickerbot_memory_bytes` | gauge | `kind`: `rss`, `heapTotal`, `heapUsed`, `external`, `arrayBuffers`, `heapPhysical`, `rssAnon`, `rssFile` ({@link ResidentMemory}) |
 * | `stickerbot_session_cache_entries` | gauge | `session`, `cache` (`signalKeys`, `userDevices`, `msgRetry`, `placeholderResend`, `callOffer`, `groups`) |
 * | `stickerbot_shared_cache_entries` | gauge | `cache` (`signalKeys`: all sessions together) |
 * | `stickerbot_session_memory_bytes` | gauge | `session`: estimated bytes of what the daemon's caches hold for it |
 *
 * and in cluster mode (a `cluster` source) also:
 *
 * | metric | type | labels |
 * | --- | --- | --- |
 * | `stickerbot_redis_up` | gauge | `daemon`: 1 while Redis answers this daemon's refreshes, else 0 |
 * | `stickerbot_cluster_sessions_owned` | gauge | `daemon`: sessions running here |
 * | `stickerbot_cluster_live_daemons` | gauge | live daemons as this one last read them |
 * | `stickerbot_journal_unacknowledged` | gauge | `group`: entries of the Redis journal pending or not yet delivered |
 *
 * plus prom-client's default `process_*` and `nodejs_*` metrics. The typed handles are
 * exported for direct use; the methods below are the shapes the bridge and the sessions
 * call (`observeCommand` fits the executor's `CommandMetricsSink`; `eventsDelivered` and
 * `acked` fit the worker namespace's metrics).
 */
export interface DaemonMetrics {
  /** The registry `/metrics` serialises. */
  readonly registry: Registry;
  /** Content type of {@link DaemonMetrics.metrics} (the Prometheus text format). */
  readonly contentType: string;
  /** The Prometheus text exposition. */
  metrics(): Promise<string>;

  readonly sessionsGauge: Gauge<'state'>;
  readonly journaledCounter: Counter<'session' | 'type'>;
  readonly deliveredCounter: Counter<'group'>;
  readonly lagGauge: Gauge<'group'>;
  readonly commandHistogram: Histogram<'op' | 'outcome'>;
  readonly reconnectsCounter: Counter<'reason'>;
  readonly memoryGauge: Gauge<'kind'>;
  readonly sessionCacheGauge: Gauge<'session' | 'cache'>;
  readonly sharedCacheGauge: Gauge<'cache'>;
  readonly sessionMemoryGauge: Gauge<'session'>;

  /** Counts one journaled entry (call after `journal.append`). */
  journaled(entry: Pick<JournalEntry, 'sessionId' | 'event' | 'seq'>): void;
  /** Counts entries pushed to a worker of `group` (live or replay); `unknown` when no group is given. */
  eventsDelivered(count: number, group?: string): void;
  /** Records a group's acknowledged position (lag when no journal source is given). */
  acked(group: string, position: number): void;
  /** Observes one command's latency (`seconds`) and outcome. */
  observeCommand(op: string, outcome: string, seconds: number): void;
  /** Counts one reconnect attempt and why the connection closed. */
  reconnect(reason: string): void;
  /** Sets the sessions gauge from a list (when no `sessions` source is given). */
  setSessions(sessions: readonly { status: SessionStatus }[]): void;
  /** Sources read at scrape time; may be given after creation (the composition root's order). */
  watch(sources: MetricsSources): void;
}

/** Creates the daemon's metrics on a new registry. */
export function createMetrics(options: MetricsOptions = {}): DaemonMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const sources: MetricsSources = { journal: options.journal, sessions: options.sessions, caches: options.caches, memory: options.memory, resident: options.resident, cluster: options.cluster };
  const journalNow = (): MetricsJournal | undefined => (typeof sources.journal === 'function' ? sources.journal() : sources.journal);
  // Without a journal source, lag is computed from what the daemon reported.
  let lastSeqSeen = 0;
  const positionsSeen = new Map<string, number>();

  const countStates = (sessions: readonly { status: SessionStatus }[]): Map<SessionStatus, number> => {
    const counts = new Map<SessionStatus, number>(SESSION_STATUSES.map((s) => [s, 0]));
    for (const { status } of sessions) counts.set(status, (counts.get(status) ?? 0) + 1);
    return counts;
  };

  const sessionsGauge = new Gauge({
    name: 'stickerbot_sessions',
    help: 'Sessions by state of the session state machine',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      if (!sources.sessions) return;
      for (const [state, count] of countStates(sources.sessions())) this.set({ state }, count);
    },
  });
  for (const state of SESSION_STATUSES) sessionsGauge.set({ state }, 0);

  const journaledCounter = new Counter({
    name: 'stickerbot_events_journaled_total',
    help: 'Events appended to the journal',
    labelNames: ['session', 'type'] as const,
    registers: [registry],
  });
  const deliveredCounter = new Counter({
    name: 'stickerbot_events_delivered_total',
    help: 'Journal entries pushed to workers (live and replayed), by consumer group',
    labelNames: ['group'] as const,
    registers: [registry],
  });
  const lagGauge = new Gauge({
    name: 'stickerbot_journal_lag',
    help: 'Entries appended but not yet acknowledged, by consumer group (lastSeq - position)',
    labelNames: ['group'] as const,
    registers: [registry],
    collect() {
      if (sources.journal) {
        const journal = journalNow();
        this.reset();
        if (!journal) return;
        const lastSeq = journal.lastSeq();
        for (const { group, position } of journal.positions()) this.set({ group }, Math.max(0, lastSeq - position));
        return;
      }
      for (const [group, position] of positionsSeen) this.set({ group }, Math.max(0, lastSeqSeen - position));
    },
  });
  const commandHistogram = new Histogram({
    name: 'stickerbot_command_duration_seconds',
    help: 'Worker and dashboard command latency, by operation and outcome',
    labelNames: ['op', 'outcome'] as const,
    buckets: [...COMMAND_LATENCY_BUCKETS],
    registers: [registry],
  });
  const reconnectsCounter = new Counter({
    name: 'stickerbot_reconnects_total',
    help: 'Reconnect attempts, by the reason the connection closed',
    labelNames: ['reason'] as const,
    registers: [registry],
  });

  const memoryGauge = new Gauge({
    name: 'stickerbot_memory_bytes',
    help:
      'Memory of the daemon process, by kind (process.memoryUsage(): rss, heapTotal, heapUsed, external, arrayBuffers; V8 heap pages resident: heapPhysical; Linux: rssAnon, rssFile)',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      const usage = (sources.memory ?? process.memoryUsage)();
      for (const kind of MEMORY_KINDS) this.set({ kind }, usage[kind]);
      const resident = (sources.resident ?? readResidentMemory)();
      for (const kind of RESIDENT_KINDS) {
        const bytes = resident[kind];
        if (bytes !== undefined) this.set({ kind }, bytes);
      }
    },
  });
  const sessionCacheGauge = new Gauge({
    name: 'stickerbot_session_cache_entries',
    help: "Entries a session holds in each bounded cache (its current socket's, and its share of the shared Signal key cache)",
    labelNames: ['session', 'cache'] as const,
    registers: [registry],
    // One snapshot per scrape fills the three cache gauges (it walks every cache): this
    // collect runs before the other two gauges are read.
    collect() {
      if (!sources.caches) return;
      const caches = sources.caches();
      // Reset first: a deleted session's series must go, not stay at its last value.
      this.reset();
      for (const [session, counts] of caches.sessions) for (const [cache, entries] of Object.entries(counts)) this.set({ session, cache }, entries);
      for (const [cache, entries] of Object.entries(caches.shared)) sharedCacheGauge.set({ cache }, entries);
      sessionMemoryGauge.reset();
      for (const [session, bytes] of caches.sessionBytes ?? []) sessionMemoryGauge.set({ session }, bytes);
    },
  });
  const sharedCacheGauge = new Gauge({
    name: 'stickerbot_shared_cache_entries',
    help: 'Entries in the caches shared by all sessions',
    labelNames: ['cache'] as const,
    registers: [registry],
  });
  const sessionMemoryGauge = new Gauge({
    name: 'stickerbot_session_memory_bytes',
    help: "Estimated bytes the daemon's caches hold for a session (Signal keys, device lists, retry and call caches, groups); Baileys' socket and internal state not included",
    labelNames: ['session'] as const,
    registers: [registry],
  });

  // Registered only in cluster mode, so that one host's exposition stays as it was.
  let clusterGauges = false;
  const registerClusterGauges = (): void => {
    if (clusterGauges) return;
    clusterGauges = true;
    const facts = (): ClusterFacts | undefined => sources.cluster?.();
    /** A gauge of this daemon's, labelled with its id. */
    const daemonGauge = (name: string, help: string, value: (f: ClusterFacts) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['daemon'] as const,
        registers: [registry],
        collect() {
          const f = facts();
          this.reset();
          if (f) this.set({ daemon: f.daemonId }, value(f));
        },
      });
    };
    daemonGauge('stickerbot_redis_up', "1 while Redis answers this daemon's refreshes, else 0 (cluster mode)", (f) => (f.redisReachable ? 1 : 0));
    daemonGauge('stickerbot_cluster_sessions_owned', 'Sessions running on this daemon under a lease (cluster mode)', (f) => f.owned.length);
    new Gauge({
      name: 'stickerbot_cluster_live_daemons',
      help: 'Live daemons in the cluster, as this daemon last read the membership (cluster mode)',
      registers: [registry],
      collect() {
        const f = facts();
        if (f) this.set(f.liveDaemons.length);
      },
    });
    new Gauge({
      name: 'stickerbot_journal_unacknowledged',
      help: 'Entries of the Redis journal a consumer group still has to handle (pending + undelivered), by group (cluster mode)',
      labelNames: ['group'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const { group, unacknowledged } of journalNow()?.positions() ?? []) if (unacknowledged !== undefined) this.set({ group }, unacknowledged);
      },
    });
  };
  if (sources.cluster) registerClusterGauges();

  return {
    registry,
    get contentType() {
      return registry.contentType;
    },
    metrics: () => registry.metrics(),
    sessionsGauge,
    journaledCounter,
    deliveredCounter,
    lagGauge,
    commandHistogram,
    reconnectsCounter,
    memoryGauge,
    sessionCacheGauge,
    sharedCacheGauge,
    sessionMemoryGauge,
    journaled({ sessionId, event, seq }) {
      journaledCounter.inc({ session: sessionId, type: event.type });
      lastSeqSeen = Math.max(lastSeqSeen, seq);
    },
    eventsDelivered(count, group = 'unknown') {
      if (count > 0) deliveredCounter.inc({ group }, count);
    },
    acked(group, position) {
      positionsSeen.set(group, Math.max(positionsSeen.get(group) ?? 0, position));
    },
    observeCommand(op, outcome, seconds) {
      commandHistogram.observe({ op, outcome }, Math.max(0, seconds));
    },
    reconnect(reason) {
      reconnectsCounter.inc({ reason });
    },
    setSessions(sessions) {
      for (const [state, count] of countStates(sessions)) sessionsGauge.set({ state }, count);
    },
    watch(more) {
      if (more.journal) sources.journal = more.journal;
      if (more.cluster) {
        sources.cluster = more.cluster;
        registerClusterGauges();
      }
      if (more.sessions) sources.sessions = more.sessions;
      if (more.caches) sources.caches = more.caches;
      if (more.memory) sources.memory = more.memory;
    },
  };
}
