/**
 * Delivers the journal to one worker connection: everything after its position, in `seq`
 * order, exactly once per connection, first replayed from the journal in batches, then live.
 *
 * The journal is the single source of truth. A live entry is sent directly only when it is
 * exactly the next one (`seq === cursor + 1`); anything else (a gap, or an entry arriving
 * while a replay runs) is left to the replay loop, which reads the journal until it is
 * empty after the cursor. Because appends are synchronous and this loop only decides it has
 * caught up on a read that returned nothing, an entry appended during the replay is either
 * read by the loop or arrives afterwards as `cursor + 1`: never lost, never sent twice.
 *
 * The same loop is the back-pressure: while the connection is still writing earlier
 * packets (`congested`), live entries are not pushed into its buffer. A WebSocket transport
 * is "congested" during every write, so a short in-memory window (`liveWindow` entries,
 * the very entries just appended, contiguous after the cursor) waits for the drain instead
 * of re-reading the journal; an entry that does not fit or does not follow drops the window
 * and the loop sends what the journal holds once the connection drained, in batches. A slow
 * worker therefore costs memory for one window plus one batch at most, and the journal is
 * the queue.
 *
 * Flow control: at most `maxUnacked` entries are out at once, sent but not acknowledged by
 * this connection's worker. At the limit the delivery stops (entries wait in the journal,
 * not in memory on either side) and each `acknowledge` lets the replay loop send as many
 * more as were acknowledged. A worker replaying a backlog of a million entries therefore
 * holds a window of them, not the million.
 *
 * Entries leave in packets of up to `batchSize` consecutive entries: a replay batch is one
 * packet, and so is the window that queued up behind a busy connection. A live entry on an
 * idle connection goes alone, at once. Socket.IO's cost is per packet (encode, frame,
 * write, decode, dispatch), so under load this is what keeps the bridge's throughput near
 * the journal's (measured with `pnpm bench:bridge`).
 */
import type { JournalEntry } from '@stickerbot/protocol';
import type { Logger } from 'pino';
import type { Journal } from '../storage/stores.js';

/** Where a delivery sends entries: a Socket.IO socket in production. */
export interface DeliveryTarget {
  /** Sends one packet: 1 to `batchSize` entries with consecutive `seq`s. */
  send(entries: readonly JournalEntry[]): void;
  /** Whether the target can still receive. */
  readonly open: boolean;
  /** Whether the target is still writing earlier entries (live entries then go through the journal). */
  readonly congested: boolean;
  /** Resolves when the target has flushed what it was given (back-pressure between batches). */
  drained(): Promise<void>;
}

/** One connection's delivery. */
export interface JournalDelivery {
  /** Starts (or resumes) the replay from the journal. */
  start(): void;
  /** Offers a live entry just appended to the journal. */
  offer(entry: JournalEntry): void;
  /** The worker acknowledged everything up to `position` (cumulative): room for more. */
  acknowledge(position: number): void;
  /** Stops delivering. */
  stop(): void;
  /** `seq` of the last entry sent. */
  readonly cursor: number;
  /** Whether a replay is running. */
  readonly replaying: boolean;
  /** Whether the delivery waits for an acknowledgement (`maxUnacked` entries are out). */
  readonly waitingForAck: boolean;
  /** Resolves once the delivery has caught up with the journal (for tests and shutdown). */
  idle(): Promise<void>;
}

/** Options of {@link createJournalDelivery}. */
export interface JournalDeliveryOptions {
  journal: Journal;
  target: DeliveryTarget;
  /** Deliver entries with `seq` greater than this. */
  after: number;
  /** Entries read from the journal at a time, and the most entries in one packet. */
  batchSize: number;
  /**
   * Live entries held in memory while the target is momentarily congested (0: every such
   * entry goes through the journal). Default 0.
   */
  liveWindow?: number;
  /** Most entries sent and not yet acknowledged (default: no limit). */
  maxUnacked?: number;
  logger: Logger;
  /** Called with how many entries were sent (metrics). */
  onSent?: (count: number) => void;
  /** Called when the journal cannot be read: the connection should be dropped (the worker will resume). */
  onError?: (err: unknown) => void;
}

/** Creates the delivery of one connection; call `start()` once its live listener is in place. */
export function createJournalDelivery(options: JournalDeliveryOptions): JournalDelivery {
  const { journal, target, batchSize, logger } = options;
  let cursor = options.after;
  let replaying = false;
  let stopped = false;
  let idleWaiters: Array<() => void> = [];
  const liveWindow = options.liveWindow ?? 0;
  const maxUnacked = options.maxUnacked ?? Number.POSITIVE_INFINITY;
  // Everything up to `after` counts as acknowledged: the worker said it has it.
  let acked = options.after;
  let waitingForAck = false;
  /** How many more entries may go out before the next acknowledgement. */
  const room = (): number => maxUnacked - (cursor - acked);
  // Live entries waiting for the drain: always exactly cursor + 1, cursor + 2, ...
  let pending: JournalEntry[] = [];
  let flushing = false;

  function settleIdle(): void {
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Sends consecutive entries after the cursor, in packets of at most `batchSize`. */
  function send(entries: readonly JournalEntry[]): void {
    for (let from = 0; from < entries.length; from += batchSize) {
      const packet = from === 0 && entries.length <= batchSize ? entries : entries.slice(from, from + batchSize);
      target.send(packet);
      cursor = packet[packet.length - 1]?.seq ?? cursor;
      options.onSent?.(packet.length);
    }
  }

  async function replay(): Promise<void> {
    if (replaying || stopped) return;
    replaying = true;
    // The replay reads these from the journal: the cursor has not passed them.
    pending = [];
    try {
      for (;;) {
        const limit = Math.min(batchSize, room());
        if (limit <= 0) {
          // Not caught up: `acknowledge` restarts the loop, which reads on from the cursor.
          waitingForAck = true;
          return;
        }
        const batch = journal.readAfter(cursor, limit);
        // The only place the delivery decides it has caught up: synchronously after a read
        // that found nothing, so no append can slip between that read and going live.
        if (batch.length === 0) return;
        if (stopped || !target.open) return;
        send(batch);
        await target.drained();
      }
    } catch (err) {
      logger.error({ err, cursor }, 'journal replay failed; dropping the connection so the worker resumes');
      options.onError?.(err);
    } finally {
      replaying = false;
      settleIdle();
    }
  }

  function flushPending(): void {
    if (flushing) return;
    flushing = true;
    void target.drained().then(() => {
      flushing = false;
      const entries = pending;
      pending = [];
      if (stopped || replaying || entries.length === 0) {
        if (!replaying) settleIdle();
        return;
      }
      const fits = Math.max(0, room());
      if (target.open) send(fits >= entries.length ? entries : entries.slice(0, fits));
      // What did not fit waits in the journal for the next acknowledgement.
      if (fits < entries.length) waitingForAck = true;
      if (pending.length === 0) settleIdle();
    });
  }

  return {
    start() {
      void replay();
    },
    offer(entry) {
      if (stopped || replaying || waitingForAck || entry.seq <= cursor + pending.length) return;
      if (room() - pending.length <= 0) {
        // The window is full: this entry and those after it wait in the journal.
        waitingForAck = true;
        return;
      }
      if (entry.seq === cursor + pending.length + 1 && target.open) {
        if (pending.length === 0 && !target.congested) {
          send([entry]);
          return;
        }
        if (pending.length < liveWindow) {
          pending.push(entry);
          flushPending();
          return;
        }
      }
      void replay();
    },
    acknowledge(position) {
      if (!Number.isSafeInteger(position) || position <= acked) return;
      acked = Math.min(position, cursor);
      if (waitingForAck && room() > 0) {
        waitingForAck = false;
        void replay();
      }
    },
    stop() {
      stopped = true;
      settleIdle();
    },
    get cursor() {
      return cursor;
    },
    get replaying() {
      return replaying;
    },
    get waitingForAck() {
      return waitingForAck;
    },
    idle() {
      if ((!replaying && pending.length === 0) || stopped) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
