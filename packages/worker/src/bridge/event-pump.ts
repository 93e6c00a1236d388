import { describeZodError, journalEntrySchema, type JournalEntry } from '@stickerbot/protocol';
import type { Logger } from 'pino';
import type { HandledMessage, ProgressStore } from '../db/progress-store.js';

/** Handles one journal entry; `signal` aborts when the worker gives up on it at shutdown. */
export type EntryHandler = (entry: JournalEntry, signal: AbortSignal) => Promise<void>;

/** Options of {@link createEventPump}. */
export interface EventPumpOptions {
  progress: ProgressStore;
  handle: EntryHandler;
  /** Sends a cumulative `event:ack`; returns false when it could not (not connected). */
  sendAck: (position: number) => boolean;
  log: Logger;
  /** How long handled positions wait to be acknowledged together, in ms (default 250). */
  ackDelayMs?: number;
  /** Acknowledge at once when this many handled entries are waiting (default 50). */
  ackEvery?: number;
}

/** What {@link EventPump.stop} did with the entry in hand. */
export interface StopOutcome {
  /** Whether an entry was still running after the grace period and was left unacknowledged. */
  abandoned: boolean;
  /** The position committed when the pump stopped. */
  position: number;
}

/**
 * The resume-and-ack engine: validates every inbound entry, handles them strictly one at
 * a time in `seq` order, skips what was already handled (by position, then by message
 * id), commits the handled message id and the new position in one transaction, and
 * acknowledges in cumulative batches.
 */
export interface EventPump {
  /** Takes one raw journal entry (an element of an `events:journaled` packet). */
  push(raw: unknown): void;
  /** Drops entries not yet started (the connection went away; the daemon replays them). */
  reset(): void;
  /** The last committed position. */
  position(): number;
  /** Sends the pending acknowledgement now, if any. */
  flushAck(): void;
  /** Resolves when nothing is queued or in hand. */
  idle(): Promise<void>;
  /** Stops taking entries; finishes the one in hand within `graceMs` or abandons it. */
  stop(graceMs: number): Promise<StopOutcome>;
}

function handledMessage(entry: JournalEntry): HandledMessage | undefined {
  if (entry.event.type !== 'message:received') return undefined;
  const message = entry.event.message;
  return {
    sessionId: entry.sessionId,
    messageId: message.id,
    chat: message.chat,
    kind: message.kind,
    mimetype: message.media?.mimetype,
    size: message.media?.size,
    animated: message.media?.animated,
  };
}

/** Creates the {@link EventPump}. */
export function createEventPump(options: EventPumpOptions): EventPump {
  const { progress, handle, sendAck, log } = options;
  const ackDelayMs = options.ackDelayMs ?? 250;
  const ackEvery = options.ackEvery ?? 50;
  const queue: JournalEntry[] = [];
  let committed = progress.position();
  let acked = committed;
  let frontier = committed;
  let inHand: { entry: JournalEntry; done: Promise<void>; abort: AbortController } | undefined;
  let ackTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  let abandonedSeq: number | undefined;
  let idleWaiters: Array<() => void> = [];

  function flushAck(): void {
    if (ackTimer) clearTimeout(ackTimer);
    ackTimer = undefined;
    if (committed <= acked) return;
    if (sendAck(committed)) acked = committed;
  }

  function scheduleAck(): void {
    if (committed - acked >= ackEvery) return flushAck();
    ackTimer ??= setTimeout(flushAck, ackDelayMs);
    ackTimer.unref?.();
  }

  function commit(entry: JournalEntry): void {
    progress.commit(entry.seq, handledMessage(entry));
    committed = Math.max(committed, entry.seq);
    scheduleAck();
  }

  function settleIdle(): void {
    if (inHand || queue.length > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  async function run(entry: JournalEntry, abort: AbortController): Promise<void> {
    const message = entry.event.type === 'message:received' ? entry.event.message : undefined;
    if (message && progress.isProcessed(entry.sessionId, message.id)) {
      log.debug({ seq: entry.seq, messageId: message.id }, 'already handled; skipping the replay');
    } else {
      try {
        await handle(entry, abort.signal);
      } catch (err) {
        // The handler answers users itself; what reaches here is a bug, logged and not retried
        // forever (a poison entry must not stall the stream).
        log.error({ err, seq: entry.seq }, 'event handler failed');
      }
    }
    if (abandonedSeq === entry.seq) return;
    commit(entry);
  }

  function pump(): void {
    if (inHand || stopping) return settleIdle();
    const entry = queue.shift();
    if (!entry) return settleIdle();
    const abort = new AbortController();
    const done = run(entry, abort)
      .catch((err: unknown) => log.error({ err, seq: entry.seq }, 'could not record a handled entry'))
      .finally(() => {
        if (inHand?.entry === entry) inHand = undefined;
        pump();
      });
    inHand = { entry, done, abort };
  }

  return {
    push(raw) {
      if (stopping) return;
      const parsed = journalEntrySchema.safeParse(raw);
      if (!parsed.success) {
        const seq = (raw as { seq?: unknown } | null)?.seq;
        log.error({ seq, problem: describeZodError(parsed.error) }, 'the daemon sent an invalid journal entry; skipping it');
        // A valid seq still moves the position so that one bad entry cannot stall the stream.
        if (typeof seq === 'number' && Number.isSafeInteger(seq) && seq > frontier) {
          frontier = seq;
          if (queue.length === 0 && !inHand) {
            progress.commit(seq);
            committed = seq;
            scheduleAck();
          }
        }
        return;
      }
      const entry = parsed.data;
      if (entry.seq <= frontier) {
        log.debug({ seq: entry.seq, frontier }, 'entry already seen; skipping');
        return;
      }
      frontier = entry.seq;
      queue.push(entry);
      pump();
    },
    reset() {
      queue.length = 0;
      frontier = Math.max(committed, inHand?.entry.seq ?? 0);
      settleIdle();
    },
    position: () => committed,
    flushAck,
    idle() {
      if (!inHand && queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    async stop(graceMs) {
      stopping = true;
      queue.length = 0;
      let abandoned = false;
      const current = inHand;
      if (current) {
        let timer: NodeJS.Timeout | undefined;
        const finished = await Promise.race([
          current.done.then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), graceMs);
          }),
        ]);
        if (timer) clearTimeout(timer);
        if (!finished) {
          abandoned = true;
          abandonedSeq = current.entry.seq;
          current.abort.abort(new Error('the worker is shutting down'));
          log.warn({ seq: current.entry.seq, graceMs }, 'abandoning the entry in hand unacknowledged; the daemon will replay it');
        }
      }
      flushAck();
      settleIdle();
      return { abandoned, position: committed };
    },
  };
}
