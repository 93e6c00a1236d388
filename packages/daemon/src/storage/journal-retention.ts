import type { Logger } from 'pino';
import type { CommandLog, Journal, PruneOutcome, RetentionPolicy } from './stores.js';

/** What `/readyz` learns from retention. */
export interface RetentionStatus {
  /** False when the journal is full or the last pass failed. */
  ok: boolean;
  /** Entries the slowest consumer group has not acknowledged (as of the last pass). */
  unacknowledged: number;
  /** Whether `unacknowledged` exceeds the policy's `maxUnacknowledged`. */
  full: boolean;
  /** When the last pass succeeded (epoch ms); null before the first. */
  lastPrunedAt: number | null;
  /** Why the last pass failed, if it did. */
  lastError?: string;
}

/** Options of {@link createJournalRetention}. */
export interface JournalRetentionOptions {
  journal: Journal;
  policy: Omit<RetentionPolicy, 'now'>;
  /** How often a pass runs (ms). */
  intervalMs: number;
  logger: Logger;
  /**
   * Entries deleted per step (default 10,000): a pass that finds more prunable entries
   * continues in later macrotasks, so a huge prune never blocks the event loop for long.
   */
  chunkSize?: number;
  /** Also prunes command results older than `maxAgeMs` on every pass (the idempotency window). */
  commandLog?: { log: CommandLog; maxAgeMs: number };
  /** Clock (epoch ms), for tests. */
  now?: () => number;
}

/** The retention loop of the journal. */
export interface JournalRetention {
  /** Runs a first pass now, then one every `intervalMs` on an unref'd timer (idempotent). */
  start(): void;
  /** Stops the timer (idempotent). */
  stop(): void;
  /** Runs one step now (at most `chunkSize` deletions); never throws (a failure is logged and reported by {@link status}). */
  runOnce(): RetentionStatus;
  /** Runs steps until nothing more is prunable, yielding to the event loop between them. */
  drain(): Promise<RetentionStatus>;
  status(): RetentionStatus;
}

/**
 * Applies the journal retention policy on an interval: acknowledged entries past
 * `maxAgeMs` or beyond the newest `maxCount` go; entries some consumer group has not
 * acknowledged are never pruned. When more than `maxUnacknowledged` of them wait (a worker
 * group that stopped acknowledging, or a retired group still registered) the journal is
 * "full": every pass logs it at `error` level with the lagging groups, and {@link status}
 * reports `ok: false` so `/readyz` fails. That is the loud failure DESIGN §3 asks for:
 * never silent loss. The timer is unref'd so it never keeps the process alive.
 */
export function createJournalRetention(options: JournalRetentionOptions): JournalRetention {
  const { journal, policy, intervalMs, commandLog } = options;
  const chunkSize = Math.max(1, Math.trunc(options.chunkSize ?? 10_000));
  const log = options.logger.child({ module: 'journal-retention' });
  const now = options.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let current: RetentionStatus = { ok: true, unacknowledged: 0, full: false, lastPrunedAt: null };
  let lastPruned = 0;
  let draining: Promise<RetentionStatus> | undefined;
  let running = false;
  let stopped = false;

  function report(outcome: PruneOutcome, at: number, continuation: boolean): void {
    if (outcome.full && !continuation) {
      const lastSeq = journal.lastSeq();
      const groups = journal.positions().map(({ group, position, updatedAt }) => ({ group, lag: lastSeq - position, lastAckAt: updatedAt }));
      log.error(
        { unacknowledged: outcome.unacknowledged, maxUnacknowledged: policy.maxUnacknowledged, groups },
        groups.length === 0
          ? 'journal full: no consumer group has ever acknowledged, nothing can be pruned (is a worker running?)'
          : 'journal full: a consumer group is not acknowledging; nothing is dropped, but /readyz fails until it catches up or the group is removed',
      );
    } else if (!outcome.full && current.full) {
      log.info({ unacknowledged: outcome.unacknowledged }, 'journal no longer full');
    }
    if (outcome.pruned > 0) log.debug({ pruned: outcome.pruned, unacknowledged: outcome.unacknowledged }, 'journal pruned');
    current = { ok: !outcome.full, unacknowledged: outcome.unacknowledged, full: outcome.full, lastPrunedAt: at };
  }

  function step(continuation: boolean): RetentionStatus {
    const at = now();
    lastPruned = 0;
    try {
      const outcome = journal.prune({ ...policy, maxDelete: chunkSize, now: at });
      lastPruned = outcome.pruned;
      report(outcome, at, continuation);
    } catch (err) {
      log.error({ err }, 'journal retention pass failed');
      current = { ...current, ok: false, lastError: err instanceof Error ? err.message : String(err) };
      return current;
    }
    if (commandLog && !continuation) {
      try {
        const pruned = commandLog.log.prune(commandLog.maxAgeMs, at);
        if (pruned > 0) log.debug({ pruned }, 'command log pruned');
      } catch (err) {
        log.error({ err }, 'command log retention failed');
      }
    }
    return current;
  }

  function drain(): Promise<RetentionStatus> {
    if (running && draining) return draining;
    running = true;
    const run = async (): Promise<RetentionStatus> => {
      try {
        let status = step(false);
        while (!stopped && lastPruned >= chunkSize && status.lastError === undefined) {
          await new Promise((resolve) => setImmediate(resolve));
          if (!stopped) status = step(true);
        }
        return status;
      } finally {
        // Cleared synchronously when the pass needed no second step.
        running = false;
      }
    };
    draining = run();
    return draining;
  }

  return {
    start(): void {
      if (timer) return;
      stopped = false;
      void drain();
      timer = setInterval(() => void drain(), intervalMs);
      timer.unref();
    },
    stop(): void {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    runOnce: () => step(false),
    drain,
    status: () => current,
  };
}
