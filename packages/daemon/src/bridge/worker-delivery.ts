/**
 * Where a worker connection's entries come from: the seam between the `/worker` namespace
 * and a journal. On one host it is the SQLite journal ({@link createSqliteDeliveryFactory},
 * the default); in cluster mode the Redis journal's consumer groups
 * (`cluster/consumer-delivery.ts`). The namespace calls the factory at the handshake and
 * hands the delivery the connection's acknowledgements and the live entries this daemon
 * journals.
 */
import type { JournalEntry } from '@stickerbot/protocol';
import type { Logger } from 'pino';
import type { Journal } from '../storage/index.js';
import { createJournalDelivery, type DeliveryTarget } from './journal-delivery.js';

/** One worker connection's delivery. */
export interface WorkerDelivery {
  /** The connection is established: start sending. */
  start(): void;
  /** A live entry this daemon just journaled (a delivery that reads elsewhere ignores it). */
  offer(entry: JournalEntry): void;
  /** The worker's cumulative `event:ack`: every entry it received with `seq <= position` is handled. */
  acknowledge(position: number): void;
  /** The connection closed: stop sending and let go of what the connection held. */
  stop(): void;
  /** `seq` of the last entry sent (for logs). */
  readonly cursor: number;
}

/** What a {@link WorkerDeliveryFactory} gets for one connection, after its token and protocol were checked. */
export interface WorkerDeliveryRequest {
  /** The worker's consumer group. */
  group: string;
  /** The handshake's `position`, when the worker presented one. */
  position: number | undefined;
  /** The Socket.IO socket id: unique per connection. */
  socketId: string;
  /** The connection to send packets to. */
  target: DeliveryTarget;
  /** Most entries in one packet (≤ `MAX_DELIVERY_BATCH`). */
  batchSize: number;
  /** Most entries out to the connection and not acknowledged by it (flow control). */
  maxUnacked: number;
  /** Live entries held in memory while the connection is momentarily writing. */
  liveWindow: number;
  logger: Logger;
  /** Called with how many entries were sent (metrics). */
  onSent: (count: number) => void;
  /** Called with the group's position after an acknowledgement was stored (metrics). */
  onAcked: (position: number) => void;
  /** The delivery cannot go on (journal unreadable): the connection is dropped and the worker resumes. */
  onError: (err: unknown) => void;
}

/**
 * Creates one connection's delivery at the handshake. A throw (or rejection) refuses the
 * handshake: a `StickerbotError` with its own code, anything else as `SHUTTING_DOWN`
 * (retryable). The option the composition passes to `createHttpServer` / `attachWorkerNamespace`.
 */
export type WorkerDeliveryFactory = (request: WorkerDeliveryRequest) => WorkerDelivery | Promise<WorkerDelivery>;

/**
 * The single-host delivery: replays the SQLite journal after the handshake's position (else
 * the group's stored one), then live, and stores each acknowledgement as the group's position.
 */
export function createSqliteDeliveryFactory(journal: Journal): WorkerDeliveryFactory {
  return (request) => {
    const { group, logger: log } = request;
    // A store closing (shutdown) or broken throws here: the namespace refuses this connection
    // (retryably) and the daemon stays up.
    const lastSeq = journal.lastSeq();
    let after = request.position ?? journal.position(group);
    // Register a new group now, not at its first ack: retention must not prune what it
    // has not seen yet. A known group keeps its stored position; one that asked for an
    // older position still gets the replay from `after` below.
    journal.ensureGroup(group, Math.min(after, lastSeq));
    if (after > lastSeq) {
      // The worker remembers a position this journal never reached (a wiped data folder):
      // start from what the journal holds rather than skipping the new entries.
      log.warn({ group, requested: after, lastSeq }, 'worker position is ahead of the journal; replaying from its end');
      after = lastSeq;
    }
    const delivery = createJournalDelivery({
      journal,
      target: request.target,
      after,
      batchSize: request.batchSize,
      liveWindow: request.liveWindow,
      maxUnacked: request.maxUnacked,
      logger: log,
      onSent: request.onSent,
      onError: request.onError,
    });
    return {
      start: () => delivery.start(),
      offer: (entry) => delivery.offer(entry),
      acknowledge(position) {
        try {
          request.onAcked(journal.ack(group, position));
        } catch (err) {
          log.error({ err }, 'could not store the acknowledged position');
        }
        delivery.acknowledge(position);
      },
      stop: () => delivery.stop(),
      get cursor() {
        return delivery.cursor;
      },
    };
  };
}
