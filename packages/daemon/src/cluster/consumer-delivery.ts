/**
 * A worker connection's delivery in cluster mode: the `/worker` namespace's
 * {@link WorkerDeliveryFactory} over the Redis journal. Each connection is one consumer of
 * its worker group (`journal-consumer.ts`, id `<daemon id>:<socket id>`): the group's
 * connections, on every daemon, divide the partitions, and a connection that closes hands
 * its partitions over at once (the others claim what it did not acknowledge).
 *
 * - **Reading.** A loop reads (blocking up to `blockMs`) while the connection's window has
 *   room (`maxUnacked` entries sent and not acknowledged) and sends each read as one packet
 *   (the consumer's read limit is the packet size), waiting for the socket to drain between
 *   packets: the journal in Redis is the queue, as the SQLite journal is on one host. Live
 *   entries this daemon journals are not pushed: the blocking read wakes on them, and on
 *   those other daemons append.
 * - **Positions.** A packet's entries rise in `seq` but are not consecutive (the
 *   connection's partitions only), and `seq` can go back between reads (a partition just
 *   taken starts with older entries; a partition read ahead can run below another's). The
 *   delivery keeps what is out to the worker rising: an entry below one still
 *   unacknowledged waits until the worker acknowledged everything sent (a barrier, at a
 *   takeover or so: one round of acknowledgements). So when the worker acknowledges
 *   `position` (the contiguous prefix, in `seq` order, of what it received on this
 *   connection), every entry sent on it with `seq <= position` was received and handled:
 *   nothing in flight is below it. The protocol README says the same ("Cluster mode").
 * - **Acknowledging in Redis.** The consumer's `ack(p)` covers every entry it handed out up
 *   to `p`, also those read and not sent yet, or read by a read still running. So the
 *   delivery acknowledges only while no read runs, and only below the oldest entry not
 *   confirmed (sent and unacknowledged, or read and not sent); with none, up to the highest
 *   it handed out. A slow entry therefore holds back the Redis acknowledgement of later
 *   ones (as the worker's own position does), never loses one.
 * - **Rejected** stream entries (that do not decode) are logged and count as handled.
 * - **Closing** (the connection went away): waits for the running read, acknowledges what
 *   the worker confirmed, then closes the consumer with a handover.
 */
import type { JournalEntry } from '@stickerbot/protocol';
import type { Redis } from 'ioredis';
import type { WorkerDelivery, WorkerDeliveryFactory, WorkerDeliveryRequest } from '../bridge/worker-delivery.js';
import { openJournalConsumer, type JournalConsumer } from './journal-consumer.js';
import type { PartitionedEntry } from './redis-journal-codec.js';
import { ClusterError } from './redis-connection.js';
import type { RedisJournal } from './redis-journal.js';
import { DAEMON_ID } from './redis-keys.js';

/** Options of {@link createConsumerDeliveryFactory}. */
export interface ConsumerDeliveryOptions {
  journal: RedisJournal;
  /** The client for commands (each consumer duplicates it for its blocking reads). */
  redis: Redis;
  /** This daemon's id in the cluster ([A-Za-z0-9_.:-]); consumer ids are `<daemonId>:<socket id>`. */
  daemonId: string;
  /** A consumer's partition lease (ms, default 10,000): a worker connection lost without a handover moves after this. */
  leaseTtlMs?: number;
  /** Lease renewal and rebalance period (ms, default a third of `leaseTtlMs`). */
  renewEveryMs?: number;
  /** How long a partition to hand back waits for its entries' acknowledgement (ms, default `leaseTtlMs`). */
  drainTimeoutMs?: number;
  /**
   * How long one read waits for new entries (ms, default 500; the consumer caps it at
   * `renewEveryMs`). Also the most a worker's acknowledgement waits to reach Redis while the
   * connection idles, and what a close waits for.
   */
  blockMs?: number;
}

/** The consumer id of a connection: the daemon id and the socket id (unique per connection), sanitized. */
export function consumerIdOf(daemonId: string, socketId: string): string {
  return `${daemonId}:${socketId.replace(/[^A-Za-z0-9_.:-]/g, '_')}`.slice(0, 128);
}

/**
 * The cluster's {@link WorkerDeliveryFactory}: pass it as `delivery` to
 * `attachWorkerNamespace` (`workerDelivery` of `createHttpServer`). The handshake's
 * `position` is ignored: the group's consumer-group state in Redis is the position.
 */
export function createConsumerDeliveryFactory(options: ConsumerDeliveryOptions): WorkerDeliveryFactory {
  if (!DAEMON_ID.test(options.daemonId)) {
    throw new ClusterError('CLUSTER_CONFIG', `invalid daemon id "${options.daemonId}": [A-Za-z0-9_.:-], at most 100 characters`);
  }
  const blockMs = options.blockMs ?? 500;
  return async (request) => {
    const consumer = await openJournalConsumer({
      journal: options.journal,
      redis: options.redis,
      group: request.group,
      consumerId: consumerIdOf(options.daemonId, request.socketId),
      leaseTtlMs: options.leaseTtlMs,
      renewEveryMs: options.renewEveryMs,
      drainTimeoutMs: options.drainTimeoutMs,
      logger: request.logger,
    });
    return createConsumerDelivery(consumer, request, blockMs);
  };
}

const withoutPartition = ({ partition: _partition, ...entry }: PartitionedEntry): JournalEntry => entry;

/** One connection's delivery from its (open) consumer; see the module comment. */
export function createConsumerDelivery(consumer: JournalConsumer, request: WorkerDeliveryRequest, blockMs: number): WorkerDelivery {
  const { target, batchSize, maxUnacked, logger: log } = request;
  let stopped = false;
  let started = false;
  let cursor = 0;
  /** `seq`s sent and not acknowledged by the worker, ascending (the barrier keeps them so). */
  const outstanding: number[] = [];
  /** Entries read and not sent yet, ascending. */
  let held: JournalEntry[] = [];
  /** The highest `seq` the consumer handed out (sent, held or rejected). */
  let highestDelivered = 0;
  /** The position acknowledged to the consumer (or being acknowledged). */
  let ackedUpTo = 0;
  let reading = false;
  let running: Promise<void> = Promise.resolve();
  const acks = new Set<Promise<void>>();
  let wake: (() => void) | undefined;

  const nextAck = (): Promise<void> =>
    new Promise((resolve) => {
      wake = resolve;
    });

  /** Acknowledges to the consumer what the worker confirmed; only while no read runs (see the module comment). */
  function settle(): void {
    if (reading) return;
    const oldest = Math.min(outstanding[0] ?? Number.POSITIVE_INFINITY, held[0]?.seq ?? Number.POSITIVE_INFINITY);
    const position = oldest === Number.POSITIVE_INFINITY ? highestDelivered : oldest - 1;
    if (position <= ackedUpTo) return;
    const previous = ackedUpTo;
    ackedUpTo = position;
    const done = consumer.ack(position).then(
      () => request.onAcked(position),
      (err: unknown) => {
        // The next settle acknowledges them again (the consumer keeps what it did not acknowledge).
        ackedUpTo = Math.min(ackedUpTo, previous);
        log.warn({ err, position }, 'could not acknowledge journal entries in Redis; retrying with the next acknowledgement');
      },
    );
    acks.add(done);
    void done.finally(() => acks.delete(done));
  }

  function send(entries: JournalEntry[]): void {
    target.send(entries);
    for (const entry of entries) outstanding.push(entry.seq);
    cursor = entries[entries.length - 1]?.seq ?? cursor;
    request.onSent(entries.length);
  }

  async function read(limit: number): Promise<void> {
    reading = true;
    let batch;
    try {
      batch = await consumer.read({ limit, blockMs });
    } finally {
      reading = false;
    }
    for (const rejected of batch.rejected) {
      log.error({ err: rejected.error, partition: rejected.partition, id: rejected.id }, 'journal entry does not decode; skipping it');
      if (rejected.seq !== undefined) highestDelivered = Math.max(highestDelivered, rejected.seq);
    }
    for (const entry of batch.entries) {
      highestDelivered = Math.max(highestDelivered, entry.seq);
      held.push(withoutPartition(entry));
    }
  }

  async function run(): Promise<void> {
    try {
      while (!stopped && target.open) {
        const room = maxUnacked - outstanding.length;
        const below = held.length > 0 && outstanding.length > 0 && (held[0] as JournalEntry).seq < (outstanding[outstanding.length - 1] as number);
        if (room <= 0 || below) {
          // The window is full, or the next entries go back in `seq`: wait for acknowledgements.
          await nextAck();
          continue;
        }
        if (held.length > 0) {
          const packet = held.slice(0, Math.min(room, batchSize));
          held = held.slice(packet.length);
          send(packet);
          await target.drained();
          continue;
        }
        await read(Math.min(room, batchSize));
        settle();
      }
    } catch (err) {
      if (stopped) return;
      log.error({ err }, 'reading the Redis journal failed; dropping the connection so the worker resumes');
      request.onError(err);
    }
  }

  return {
    start() {
      if (started || stopped) return;
      started = true;
      log.debug({ position: request.position, partitions: consumer.assigned() }, 'delivering from the Redis journal (the handshake position is not used)');
      running = run();
    },
    offer() {
      // The blocking read wakes on new entries, this daemon's and the others'.
    },
    acknowledge(position) {
      if (!Number.isSafeInteger(position)) return;
      let n = 0;
      while (n < outstanding.length && (outstanding[n] as number) <= position) n += 1;
      if (n === 0) return;
      outstanding.splice(0, n);
      settle();
      wake?.();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      wake?.();
      void (async () => {
        await running;
        // The loop has ended: no read runs, what the worker confirmed can be acknowledged.
        settle();
        await Promise.all(acks);
        await consumer.close();
      })().catch((err: unknown) => log.warn({ err }, 'closing the journal consumer failed; its partitions move when their leases expire'));
    },
    get cursor() {
      return cursor;
    },
  };
}
