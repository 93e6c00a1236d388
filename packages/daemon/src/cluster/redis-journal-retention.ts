/**
 * The retention loop of the Redis journal (cluster mode): the SQLite journal's policy
 * (`STICKERBOT_JOURNAL_*`), applied by every daemon on its own interval. Trimming is one
 * script per partition that never passes any group's need (`RedisJournal.prune`), so two
 * daemons pruning at once only repeat each other's work. The status has the SQLite loop's
 * shape, so `/readyz` fails the same way when a group stops acknowledging. Unlike the SQLite
 * loop, which logs "journal full" with each group's lag on every pass, this one logs it once
 * when the journal becomes full, without the groups: every daemon runs it, and the groups'
 * lag is in `/readyz` and `/metrics` (cluster facts).
 */
import type { Logger } from 'pino';
import type { RetentionPolicy, RetentionStatus } from '../storage/index.js';
import type { RedisJournal } from './redis-journal.js';

/** Options of {@link createRedisJournalRetention}. */
export interface RedisJournalRetentionOptions {
  journal: Pick<RedisJournal, 'prune'>;
  policy: Omit<RetentionPolicy, 'now' | 'maxDelete'>;
  /** How often a pass runs (ms). */
  intervalMs: number;
  logger: Logger;
  /** Entries trimmed per call (default 10,000); a pass calls again while a call trimmed that many. */
  chunkSize?: number;
  /** Clock (epoch ms), for tests. */
  now?: () => number;
}

/** The Redis journal's retention loop. */
export interface RedisJournalRetention {
  /** Runs a first pass now, then one every `intervalMs` on an unref'd timer (idempotent). */
  start(): void;
  /** Stops the timer (idempotent); a pass under way finishes. */
  stop(): void;
  /** Runs one pass now (or joins the one under way); never rejects (a failure is in the status). */
  runOnce(): Promise<RetentionStatus>;
  status(): RetentionStatus;
}

/** Applies the retention policy to the Redis journal on an interval. */
export function createRedisJournalRetention(options: RedisJournalRetentionOptions): RedisJournalRetention {
  const { journal, policy, intervalMs } = options;
  const chunkSize = Math.max(1, Math.trunc(options.chunkSize ?? 10_000));
  const log = options.logger.child({ module: 'journal-retention' });
  const now = options.now ?? Date.now;
  let current: RetentionStatus = { ok: true, unacknowledged: 0, full: false, lastPrunedAt: null };
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<RetentionStatus> | undefined;
  let stopped = false;

  async function pass(): Promise<RetentionStatus> {
    const at = now();
    try {
      let outcome = await journal.prune({ ...policy, maxDelete: chunkSize, now: at });
      let pruned = outcome.pruned;
      // `maxDelete` bounds one call: a call that trimmed less than that left nothing prunable behind.
      while (!stopped && outcome.pruned >= chunkSize) {
        outcome = await journal.prune({ ...policy, maxDelete: chunkSize, now: at });
        pruned += outcome.pruned;
      }
      if (outcome.full && !current.full) {
        log.error(
          { unacknowledged: outcome.unacknowledged, maxUnacknowledged: policy.maxUnacknowledged },
          'journal full: a consumer group is not acknowledging; nothing is dropped, but /readyz fails until it catches up or the group is removed',
        );
      } else if (!outcome.full && current.full) {
        log.info({ unacknowledged: outcome.unacknowledged }, 'journal no longer full');
      }
      if (pruned > 0) log.debug({ pruned, unacknowledged: outcome.unacknowledged }, 'journal pruned');
      current = { ok: !outcome.full, unacknowledged: outcome.unacknowledged, full: outcome.full, lastPrunedAt: at };
    } catch (err) {
      log.error({ err }, 'journal retention pass failed');
      current = { ...current, ok: false, lastError: err instanceof Error ? err.message : String(err) };
    }
    return current;
  }

  function runOnce(): Promise<RetentionStatus> {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    start() {
      if (timer) return;
      stopped = false;
      void runOnce();
      timer = setInterval(() => void runOnce(), intervalMs);
      timer.unref();
    },
    stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    runOnce,
    status: () => current,
  };
}
