/**
 * The resume-and-ack engine between the bridge and the router. Its invariants:
 *
 * - **Order.** Entries of one chat of one session are handled in journal order, one at a
 *   time; different chats run side by side, up to `concurrency` at once, taking turns
 *   (see `lane-scheduler.ts`). A session event (no chat) starts only after the session's
 *   earlier session events, and the session's later entries start only after it.
 * - **Position.** The position is the contiguous prefix, in `seq` order, of the handled
 *   entries received on this connection: every entry received with a `seq` up to it is
 *   handled. An entry that finishes while an earlier one still runs is recorded as handled
 *   beyond the position; a replay skips it. On one host a connection receives consecutive
 *   `seq`s, so this is "every entry up to it". In cluster mode (protocol README, "Cluster
 *   mode") a connection receives its partitions only, and `seq` goes back after a takeover:
 *   an entry is never skipped because its `seq` is below one seen or committed (after a
 *   takeover those are new here), only because this worker knows it handled that very entry
 *   (by `seq` or message id). The stored position is the highest reached (it never goes
 *   back); the acknowledged one is this connection's, and may go back after a takeover.
 * - **Exactly once.** What an entry's handling leaves (its message id, the entry beyond
 *   the position, the new position) is committed in one transaction, batched with the
 *   entries that finished in the same turn of the event loop. A crash before the commit
 *   replays the entry, whose handler reuses its command ids (the daemon answers a repeated
 *   id with the recorded outcome); after it, the entry is skipped. A message is also
 *   skipped by its id (one message journaled twice, under two `seq`s).
 * - **Acknowledgement.** Only this connection's committed position is acknowledged,
 *   cumulatively, in batches, and only on this connection (a reconnect drops an unsent
 *   acknowledgement: the handshake's position carries it on one host, and in cluster mode
 *   the entries it covered are delivered again and skipped as handled). The daemon keeps at most its flow-control window of entries unacknowledged
 *   (1,000), so that window bounds what the pump holds, however slow an entry is.
 */
import { chatOfEvent, describeZodError, journalEntrySchema, type JournalEntry } from '@stickerbot/protocol';
import type { Logger } from 'pino';
import type { HandledEntry, HandledMessage, ProgressStore } from '../db/progress-store.js';
import { createLaneScheduler } from './lane-scheduler.js';

/** Handles one journal entry; `signal` aborts when the worker gives up on it at shutdown. */
export type EntryHandler = (entry: JournalEntry, signal: AbortSignal) => Promise<void>;

/** Options of {@link createEventPump}. */
export interface EventPumpOptions {
  progress: ProgressStore;
  handle: EntryHandler;
  /** Sends a cumulative `event:ack`; returns false when it could not (not connected). */
  sendAck: (position: number) => boolean;
  log: Logger;
  /** How many entries (of different chats) are handled at once (default 8). */
  concurrency?: number;
  /** How long handled positions wait to be acknowledged together, in ms (default 250). */
  ackDelayMs?: number;
  /** Acknowledge at once when the position moved this many entries since the last ack (default 50). */
  ackEvery?: number;
}

/** What {@link EventPump.stop} did with the entries in hand. */
export interface StopOutcome {
  /** How many entries were still running after the grace period and were left unacknowledged. */
  abandoned: number;
  /** The position committed when the pump stopped. */
  position: number;
}

/**
 * Validates every inbound entry, hands them to the router by chat lanes, skips what was
 * already handled, commits progress in batches and acknowledges the contiguous prefix.
 */
export interface EventPump {
  /** Takes the raw entries of one `events:journaled` packet, in `seq` order. */
  receive(packet: readonly unknown[]): void;
  /** Drops entries not yet started (the connection went away; the daemon replays them). */
  reset(): void;
  /** The last committed position. */
  position(): number;
  /** Sends the pending acknowledgement now, if any. */
  flushAck(): void;
  /** Resolves when nothing is queued, in hand or waiting to be committed. */
  idle(): Promise<void>;
  /** Stops taking entries; finishes those in hand within `graceMs` or abandons them. */
  stop(graceMs: number): Promise<StopOutcome>;
}

type SlotState = 'queued' | 'running' | 'done';

/** One entry the pump knows above the committed position. */
interface Slot {
  readonly seq: number;
  readonly sessionId: string;
  readonly chat: string | undefined;
  /** The entry; `undefined` for one known as handled from the database or invalid. */
  readonly entry: JournalEntry | undefined;
  state: SlotState;
  /** The message id of a `message:received` entry. */
  readonly messageId?: string;
  /** The message was handled before (recorded when the entry arrived): not handled again. */
  processed?: boolean;
  /** An earlier entry in the window with the same message (one message journaled twice). */
  twin?: Slot;
  finished?: Promise<void>;
  abandoned?: boolean;
}

/** Commit at once when this many handled entries wait (bounds a transaction and the turn that fills it). */
const MAX_BATCH = 512;

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
  const scheduler = createLaneScheduler<Slot>(options.concurrency ?? 8);
  /** The stored position: the highest this worker reached (never goes back). */
  let committed = progress.position();
  /** This connection's committed position, to acknowledge (undefined: nothing handled on it yet). */
  let ackPosition: number | undefined;
  /** The last position acknowledged on this connection. */
  let acked: number | undefined;
  /** Entries committed on this connection since the last acknowledgement. */
  let sinceAck = 0;
  /** Slots received on this connection and not committed yet, in `seq` order (not arrival order). */
  let order: Slot[] = [];
  /** The `seq`s in {@link order}: a repeat on one connection is skipped. */
  const inOrder = new Set<number>();
  /** Every slot above the position by `seq`, also those in hand from before a reconnect. */
  const known = new Map<number, Slot>();
  /** Handled slots not yet committed. */
  let pending: Slot[] = [];
  /** The slots in {@link known} that carry a message, by message key. */
  const messagesInWindow = new Map<string, Slot>();
  let flushScheduled = false;
  let ackTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  // One signal for every entry: stop() abandons all the unfinished ones at once.
  const shutdown = new AbortController();
  let idleWaiters: Array<() => void> = [];

  for (const seq of progress.handledBeyond()) known.set(seq, { seq, sessionId: '', chat: undefined, entry: undefined, state: 'done' });

  const messageKey = (slot: Slot) => `${slot.sessionId}\u0000${slot.messageId}`;

  function forget(slot: Slot): void {
    known.delete(slot.seq);
    if (slot.messageId === undefined || messagesInWindow.get(messageKey(slot)) !== slot) return;
    if (slot.twin && known.has(slot.twin.seq)) messagesInWindow.set(messageKey(slot), slot.twin);
    else messagesInWindow.delete(messageKey(slot));
  }

  function flushAck(): void {
    if (ackTimer) clearTimeout(ackTimer);
    ackTimer = undefined;
    if (ackPosition === undefined || ackPosition === acked) return;
    if (sendAck(ackPosition)) {
      acked = ackPosition;
      sinceAck = 0;
    }
  }

  function scheduleAck(): void {
    if (sinceAck >= ackEvery) return flushAck();
    ackTimer ??= setTimeout(flushAck, ackDelayMs);
    ackTimer.unref?.();
  }

  function settleIdle(): void {
    if (scheduler.running > 0 || scheduler.queued > 0 || pending.length > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Commits the handled slots and the position they lead to, in one transaction. */
  function flush(): void {
    flushScheduled = false;
    let reached = 0;
    while (reached < order.length && order[reached]?.state === 'done') reached += 1;
    const position = reached > 0 ? (order[reached - 1] as Slot).seq : committed;
    if (pending.length === 0 && reached === 0) return settleIdle();
    const batch = pending;
    const handled: HandledEntry[] = batch.map((slot) => ({ seq: slot.seq, message: slot.entry && handledMessage(slot.entry) }));
    try {
      progress.commit({ position, handled });
    } catch (err) {
      // Kept for the next flush; until then the position stays (a crash replays these entries).
      log.error({ err, entries: batch.length }, 'could not record handled entries');
      return;
    }
    pending = [];
    for (const slot of order.splice(0, reached)) {
      inOrder.delete(slot.seq);
      forget(slot);
    }
    if (reached > 0) {
      committed = Math.max(committed, position);
      ackPosition = position;
      sinceAck += reached;
      scheduleAck();
    }
    settleIdle();
  }

  function scheduleFlush(): void {
    if (pending.length >= MAX_BATCH) return flush();
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(flush);
  }

  function finish(slot: Slot): void {
    scheduler.finish(slot);
    if (!slot.abandoned) {
      slot.state = 'done';
      pending.push(slot);
      scheduleFlush();
    }
    pump();
  }

  async function run(slot: Slot): Promise<void> {
    // A twin is in the same chat, so it finished before this one started.
    if (slot.processed || slot.twin?.state === 'done') {
      log.debug({ seq: slot.seq, messageId: slot.messageId }, 'message already handled; skipping the repeat');
      return;
    }
    try {
      await handle(slot.entry as JournalEntry, shutdown.signal);
    } catch (err) {
      // The handler answers users itself; what reaches here is a bug, logged and not retried
      // forever (a poison entry must not stall the stream).
      log.error({ err, seq: slot.seq }, 'event handler failed');
    }
  }

  function pump(): void {
    if (stopping) return settleIdle();
    let slot: Slot | undefined;
    while ((slot = scheduler.next())) {
      const started = slot;
      started.state = 'running';
      started.finished = run(started).then(() => finish(started));
    }
    settleIdle();
  }

  /**
   * Takes a slot into the order of this connection. Returns it when it is new and needs
   * handling; one known from before a reconnect or a restart is not started again.
   */
  function accept(slot: Slot): Slot | undefined {
    const earlier = known.get(slot.seq);
    if (earlier) {
      place(earlier);
      if (earlier.state === 'done') scheduleFlush();
      return undefined;
    }
    place(slot);
    known.set(slot.seq, slot);
    if (slot.state === 'done') {
      pending.push(slot);
      scheduleFlush();
      return undefined;
    }
    return slot;
  }

  /** Inserts a slot into {@link order} by `seq` (at the end but after a cluster takeover). */
  function place(slot: Slot): void {
    let at = order.length;
    while (at > 0 && (order[at - 1] as Slot).seq > slot.seq) at -= 1;
    order.splice(at, 0, slot);
    inOrder.add(slot.seq);
  }

  function validate(raw: unknown): Slot | undefined {
    const parsed = journalEntrySchema.safeParse(raw);
    if (!parsed.success) {
      const seq = (raw as { seq?: unknown } | null)?.seq;
      log.error({ seq, problem: describeZodError(parsed.error) }, 'the daemon sent an invalid journal entry; skipping it');
      // A valid seq still counts as handled, so that one bad entry cannot stall the stream.
      if (typeof seq === 'number' && Number.isSafeInteger(seq) && seq > 0 && !inOrder.has(seq)) {
        accept({ seq, sessionId: '', chat: undefined, entry: undefined, state: 'done' });
      }
      return undefined;
    }
    const entry = parsed.data;
    if (inOrder.has(entry.seq)) {
      log.debug({ seq: entry.seq }, 'entry already received on this connection; skipping');
      return undefined;
    }
    const messageId = entry.event.type === 'message:received' ? entry.event.message.id : undefined;
    return accept({ seq: entry.seq, sessionId: entry.sessionId, chat: chatOfEvent(entry.event), entry, state: 'queued', messageId });
  }

  /** Marks the messages of new slots handled before: by an entry in the window, else in the database (one read for the packet). */
  function markRepeats(slots: readonly Slot[]): void {
    const lookups: Slot[] = [];
    for (const slot of slots) {
      if (slot.messageId === undefined) continue;
      const twin = messagesInWindow.get(messageKey(slot));
      if (twin) slot.twin = twin;
      else lookups.push(slot);
      messagesInWindow.set(messageKey(slot), slot);
    }
    if (lookups.length === 0) return;
    const processed = progress.processed(lookups.map(({ sessionId, messageId }) => ({ sessionId, messageId: messageId as string })));
    lookups.forEach((slot, index) => {
      slot.processed = processed[index];
    });
  }

  return {
    receive(packet) {
      if (stopping) return;
      const fresh: Slot[] = [];
      for (const raw of packet) {
        const slot = validate(raw);
        if (slot) fresh.push(slot);
      }
      markRepeats(fresh);
      for (const slot of fresh) scheduler.add(slot);
      pump();
    },
    reset() {
      for (const slot of scheduler.dropQueued()) forget(slot);
      // The daemon replays everything after the committed position (in cluster mode: what
      // was not acknowledged); what is in hand or handled stays known and is taken back into
      // the order when it comes again. Acknowledgements belong to the connection that
      // delivered the entries: one not sent yet is dropped.
      order = [];
      inOrder.clear();
      if (ackTimer) clearTimeout(ackTimer);
      ackTimer = undefined;
      ackPosition = undefined;
      acked = undefined;
      sinceAck = 0;
      // An entry in hand may sit below the stored position in cluster mode: it stays known.
      for (const slot of known.values()) if (slot.seq <= committed && slot.state === 'done') forget(slot);
      settleIdle();
    },
    position: () => committed,
    flushAck,
    idle() {
      if (scheduler.running === 0 && scheduler.queued === 0 && pending.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    async stop(graceMs) {
      stopping = true;
      for (const slot of scheduler.dropQueued()) forget(slot);
      const inHand = [...known.values()].filter((slot) => slot.state === 'running');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(inHand.map((slot) => slot.finished ?? Promise.resolve())),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      if (timer) clearTimeout(timer);
      const unfinished = inHand.filter((slot) => slot.state === 'running');
      for (const slot of unfinished) slot.abandoned = true;
      if (unfinished.length > 0) {
        shutdown.abort(new Error('the worker is shutting down'));
        log.warn({ seqs: unfinished.map((slot) => slot.seq), graceMs }, 'abandoning the entries in hand unacknowledged; the daemon will replay them');
      }
      flush();
      flushAck();
      settleIdle();
      return { abandoned: unfinished.length, position: committed };
    },
  };
}
