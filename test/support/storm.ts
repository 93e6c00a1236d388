/**
 * The restart storm: contacts send `!ping` at a steady rate while the worker is restarted
 * again and again (SIGTERM and SIGKILL mixed, at random points); then the ledger is
 * checked against the worker's own records and the daemon's sockets.
 */
import { createStack, replyGaps, stopWorker, until, type Stack } from '../../scripts/support/process-stack.js';

/** Sizes of one storm. */
export interface StormOptions {
  messages: number;
  restarts: number;
  /** WhatsApp sessions the messages are spread over (the daemon paces sends per session). */
  sessions: number;
  /** Inbound messages a second. */
  rate: number;
  /** The worker's `STICKERBOT_WORKER_CONCURRENCY`: how many chats it handles at once. */
  concurrency: number;
  /** Largest random pause between reaching a restart point and the kill (ms). */
  maxPauseMs?: number;
  /** Progress lines (restart n, signal, replies so far). */
  onProgress?: (line: string) => void;
}

/** What a storm observed. */
export interface StormResult {
  messages: number;
  kills: { SIGTERM: number; SIGKILL: number };
  lost: string[];
  duplicated: string[];
  repliesTotal: number;
  /** Inbound ids missing from the worker's processed_messages. */
  unrecorded: string[];
  /** Handler runs recorded in usage stats (replays after a SIGKILL may run the handlers in hand again; the daemon's idempotency keeps the reply single). */
  handlerRuns: number;
  sockets: Array<{ sessionId: string; sockets: number; state: string; closes: number }>;
  elapsedMs: number;
}

/** Runs one storm in a fresh stack and closes it. */
export async function runStorm(options: StormOptions): Promise<StormResult> {
  const stack: Stack = createStack({ sessions: options.sessions, workerEnv: { STICKERBOT_WORKER_CONCURRENCY: String(options.concurrency) } });
  const started = Date.now();
  try {
    const daemon = await stack.startDaemon();
    for (const sessionId of stack.sessions) daemon.request({ t: 'scan', sessionId });
    await until(() => daemon.reports.filter((r) => r.t === 'open').length >= stack.sessions.length, 'every session to open', 60_000);
    let worker = stack.startWorker();

    let fed = 0;
    const perTick = Math.max(1, Math.round(options.rate / 20));
    const feeder = setInterval(() => {
      const count = Math.min(perTick, options.messages - fed);
      if (count <= 0) return;
      stack.send(count);
      fed += count;
    }, 50);

    const kills = { SIGTERM: 0, SIGKILL: 0 };
    try {
      const segment = options.messages / (options.restarts + 1);
      for (let i = 0; i < options.restarts; i += 1) {
        // Restart points spread over the whole stream, each at a random place in its segment,
        // and only once the current worker is live again (it answered at least once).
        const threshold = Math.floor(segment * (i + 0.5 + Math.random()));
        const before = stack.replies.length;
        await until(
          () => (stack.replies.length >= threshold && stack.replies.length > before) || stack.replies.length >= options.messages,
          `answer ${threshold} before restart ${i + 1}`,
          600_000,
        );
        await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * (options.maxPauseMs ?? 500))));
        // A coin toss, except that the last restart supplies a signal that never came up.
        let signal: 'SIGTERM' | 'SIGKILL' = Math.random() < 0.5 ? 'SIGTERM' : 'SIGKILL';
        if (i === options.restarts - 1 && kills.SIGTERM === 0) signal = 'SIGTERM';
        if (i === options.restarts - 1 && kills.SIGKILL === 0) signal = 'SIGKILL';
        await stopWorker(worker, signal);
        kills[signal] += 1;
        options.onProgress?.(`restart ${i + 1}/${options.restarts} by ${signal}: ${stack.replies.length}/${fed} answered`);
        worker = stack.startWorker();
      }
      await until(() => fed >= options.messages, 'every message to be sent', 600_000, 100);
    } finally {
      clearInterval(feeder);
    }
    const ids = [...stack.inbound];
    await until(() => ids.every((id) => stack.repliesTo.has(id)), 'every message to be answered', 300_000, 100);
    // Let any second answer surface before counting.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const sockets = await daemon.status();
    await stopWorker(worker, 'SIGTERM');
    const records = stack.workerRecords();
    const gaps = replyGaps(stack, ids);
    return {
      messages: ids.length,
      kills,
      lost: gaps.lost,
      duplicated: gaps.duplicated,
      repliesTotal: stack.replies.length,
      unrecorded: ids.filter((id) => !records.processed.has(id)),
      handlerRuns: records.uses.ping ?? 0,
      sockets,
      elapsedMs: Date.now() - started,
    };
  } catch (err) {
    throw new Error(`${String(err)}\n--- recent output ---\n${stack.log.slice(-40).join('\n')}`, { cause: err });
  } finally {
    await stack.close();
  }
}
