/**
 * The staggered start of many sessions after a daemon restart (issue #16): at most
 * `concurrency` sessions connect at once, and every start past the first wave waits a random
 * delay up to `jitterMs`, so a hundred sessions do not open a hundred WebSockets, Noise
 * handshakes and initial syncs in the same second (a thundering herd WhatsApp may answer
 * with rate limits, and that spikes the daemon's CPU and memory together).
 */

/** Tunables of the staggered start (`STICKERBOT_START_CONCURRENCY`, `STICKERBOT_START_JITTER_MS`). */
export interface StartQueueOptions {
  /** Most sessions connecting at once (default 5). */
  concurrency: number;
  /** Each start after the first `concurrency` waits a uniform random delay below this (ms, default 1000; 0: none). */
  jitterMs: number;
  /** A start holds its slot at most this long, even if the session is still connecting (ms, default 60 s). */
  slotTimeoutMs: number;
}

/** The defaults of {@link StartQueueOptions}. */
export const DEFAULT_START_QUEUE: Readonly<StartQueueOptions> = Object.freeze({ concurrency: 5, jitterMs: 1000, slotTimeoutMs: 60_000 });

/**
 * One queued start: connects and resolves once the session no longer needs its slot (it is
 * connected, shows a QR, failed, or was stopped). Returns `undefined` when there was nothing
 * left to start (stopped or started by hand while it waited).
 */
export type StartJob = () => Promise<void> | undefined;

/** A queue of starts sharing a concurrency limit. */
export interface StartQueue {
  /** Queues a start; the first `concurrency` ever added run at once, without jitter. */
  add(job: StartJob): void;
  /** Starts that wait for a slot (not counting the running ones). */
  readonly waiting: number;
  /** Starts holding a slot. */
  readonly running: number;
  /** Drops every waiting start and its timers (daemon shutdown); running ones finish on their own. */
  close(): void;
}

/** Creates an empty start queue. `random` is uniform in [0, 1) (tests pass a fixed one). */
export function createStartQueue(options: Partial<StartQueueOptions> = {}, random: () => number = Math.random): StartQueue {
  const { concurrency, jitterMs, slotTimeoutMs } = { ...DEFAULT_START_QUEUE, ...options };
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`start concurrency must be a whole number of at least 1 (got ${concurrency})`);
  const pending: StartJob[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let running = 0;
  let started = 0;
  let closed = false;

  function release(): void {
    running -= 1;
    pump();
  }

  function run(job: StartJob): void {
    let settled: Promise<void> | undefined;
    try {
      settled = job();
    } catch {
      settled = undefined;
    }
    if (!settled) {
      release();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, slotTimeoutMs);
    });
    void Promise.race([settled.catch(() => undefined), timeout]).then(() => {
      clearTimeout(timer);
      release();
    });
  }

  function pump(): void {
    while (!closed && running < concurrency && pending.length > 0) {
      const job = pending.shift() as StartJob;
      running += 1;
      started += 1;
      const delay = started > concurrency && jitterMs > 0 ? Math.floor(random() * jitterMs) : 0;
      if (delay === 0) {
        run(job);
        continue;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        run(job);
      }, delay);
      timers.add(timer);
    }
  }

  return {
    add(job) {
      if (closed) return;
      pending.push(job);
      pump();
    },
    get waiting() {
      return pending.length;
    },
    get running() {
      return running;
    },
    close() {
      closed = true;
      pending.length = 0;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
