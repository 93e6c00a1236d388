/**
 * One worker connection's reader of the Redis journal: the cluster's counterpart of the
 * bridge's `readAfter` loop (`bridge/journal-delivery.ts`), driven by `consumer-delivery.ts`.
 *
 * - **Assignment.** The consumer heartbeats, renews its partition leases and takes or hands
 *   back partitions towards its fair share (`partition-assignment.ts`) every `renewEveryMs`.
 *   A partition it must hand back stops being read at once and is released once every entry
 *   it handed out of it is acknowledged (or after `drainTimeoutMs`).
 * - **Takeover.** A partition it takes may hold the previous owner's pending entries (it
 *   died, or its drain timed out): they are claimed (`XAUTOCLAIM`, min idle 0: the lease says
 *   they are ours now) and read from this consumer's pending list before any new entry of
 *   the partition, so one chat's order holds across a failover.
 * - **Reads** are fenced: one script reads every held partition, each only while its lease
 *   holds this consumer's value (a consumer paused past its lease reads nothing and learns it
 *   lost the partition). `read` returns at most `limit` entries in `seq` order, taken from
 *   every held partition at once (each read asks every partition for `limit`, and what is not
 *   returned waits in memory for the next call, so `seq` rises across calls). `seq` goes back
 *   only where the assignment changed: a partition just taken starts with older entries.
 *   Per partition, entries come in stream order, each once per consumer (again only after a
 *   takeover if the worker that had it did not acknowledge it: at-least-once).
 * - **Acknowledgement** `ack(position)` is cumulative over what this consumer handed out:
 *   every entry it delivered with `seq <= position` is handled (XACK). A worker acknowledging
 *   the contiguous prefix of handled entries in `seq` order satisfies it. Entries of a
 *   partition lost meanwhile are still acknowledged (they were handled).
 * - A stream entry that does not decode is handed out as `rejected` (typed error) in place
 *   of its entry, and counts as delivered: acknowledge it like any other, a poison entry must
 *   not stall its partition.
 *
 * One `read` at a time; `ack` may run alongside it.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { CONSUMER_READ_LUA } from './journal-consumer-scripts.js';
import { createPartitionAssignment, type HeldPartition } from './partition-assignment.js';
import { decodeStreamEntry, seqOfStreamId, type PartitionedEntry } from './redis-journal-codec.js';
import { ClusterError, defineScript, toClusterError } from './redis-connection.js';
import { assertGroupName, type RedisJournal } from './redis-journal.js';

/** An entry that could not be read, in place of the entry. */
export interface RejectedEntry {
  partition: number;
  /** Its stream id. */
  id: string;
  /** Its seq, when the id is a journal id (then it counts as delivered, see `ack`). */
  seq: number | undefined;
  error: ClusterError;
}

/** What one {@link JournalConsumer.read} returns. */
export interface ConsumerBatch {
  /** Entries in `seq` order, each with its partition. */
  entries: PartitionedEntry[];
  /** Stream entries that did not decode. */
  rejected: RejectedEntry[];
}

/** Options of {@link openJournalConsumer}. */
export interface JournalConsumerOptions {
  journal: RedisJournal;
  /** The client for commands, e.g. from `createRedisConnection` (the consumer duplicates it for blocking reads). */
  redis: Redis;
  /** The consumer group (the worker group name, `bot` by default). */
  group: string;
  /** This consumer's id, unique in the group (a worker connection: daemon id + socket id). */
  consumerId: string;
  /** How long a lease and a heartbeat last without renewal (ms, default 10,000): the takeover time. */
  leaseTtlMs?: number;
  /** How often leases are renewed and the assignment rebalanced (ms, default a third of `leaseTtlMs`). */
  renewEveryMs?: number;
  /** How long a partition to hand back waits for its delivered entries' acknowledgement (ms, default `leaseTtlMs`). */
  drainTimeoutMs?: number;
  logger: Logger;
  /** Told the partitions this consumer reads, whenever they change. */
  onAssignment?: (partitions: readonly number[]) => void;
}

/** Options of {@link JournalConsumer.read}. */
export interface ReadOptions {
  /** Most entries to return (default 256, the bridge's packet). */
  limit?: number;
  /** With nothing to read, wait this long for an entry (ms, default 0; capped at `renewEveryMs`). */
  blockMs?: number;
}

/** A group member reading its share of the partitions; see the module comment. */
export interface JournalConsumer {
  readonly group: string;
  readonly consumerId: string;
  /** The partitions it reads now, ascending. */
  assigned(): number[];
  /** The next entries of its partitions (see the module comment for the order). */
  read(options?: ReadOptions): Promise<ConsumerBatch>;
  /** Every delivered entry with `seq <= position` is handled: acknowledges them. Returns how many. */
  ack(position: number): Promise<number>;
  /** Entries handed out and not acknowledged. */
  unacknowledged(): number;
  /** Runs a heartbeat and rebalance now (also runs every `renewEveryMs`). */
  rebalance(): Promise<void>;
  /**
   * Stops. By default hands over: releases every lease and leaves the group's live set, so
   * the others take the partitions at their next rebalance and claim what was not
   * acknowledged. `{ handover: false }` lets the leases expire instead (what a crash does).
   */
  close(options?: { handover?: boolean }): Promise<void>;
}

type StreamEntryReply = [id: string, fields: string[] | null];
type ReadReply = Array<['lost'] | [mode: string, entries: StreamEntryReply[], last: string]>;

/** Joins the group (registering it on every partition if new) and takes a first share of the partitions. */
export async function openJournalConsumer(options: JournalConsumerOptions): Promise<JournalConsumer> {
  const { journal, redis, consumerId } = options;
  const group = assertGroupName(options.group);
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(consumerId)) {
    throw new ClusterError('JOURNAL_CONFIG', `invalid consumer id "${consumerId}": 1 to 128 of [A-Za-z0-9_.:-]`);
  }
  const leaseTtlMs = options.leaseTtlMs ?? 10_000;
  const renewEveryMs = options.renewEveryMs ?? Math.max(1, Math.floor(leaseTtlMs / 3));
  const drainTimeoutMs = options.drainTimeoutMs ?? leaseTtlMs;
  if (!(renewEveryMs < leaseTtlMs)) throw new ClusterError('JOURNAL_CONFIG', 'renewEveryMs must be shorter than leaseTtlMs');
  const { keys, partitions } = journal;
  const log = options.logger.child({ module: 'journal-consumer', group, consumerId });
  await journal.ensureGroup(group);

  const readScript = defineScript<ReadReply>(redis, 'stickerbotConsumerRead', 'any', CONSUMER_READ_LUA);
  const leaseKeys = Array.from({ length: partitions }, (_, p) => keys.lease(group, p));

  // Blocking reads get a connection of their own; a rebalance interrupts one with CLIENT UNBLOCK.
  // A read blocks up to `renewEveryMs`: the command timeout of a cluster connection
  // (`createRedisConnection`) must leave it that long.
  const commandTimeout = redis.options.commandTimeout;
  const blocking = redis.duplicate(commandTimeout === undefined ? {} : { commandTimeout: commandTimeout + renewEveryMs });
  blocking.on('error', () => undefined);
  let blockingId: number | undefined;
  const readBlockingId = (): void => {
    blocking.client('ID').then(
      (id) => (blockingId = Number(id)),
      () => undefined,
    );
  };
  blocking.on('ready', readBlockingId);

  let buffer: PartitionedEntry[] = [];
  /** Seqs handed out and not acknowledged, per partition, ascending. */
  const delivered = new Map<number, number[]>();
  let closed = false;
  let reading = false;
  let ticking: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let lastAssignment = '';

  const assigned = (): number[] => assignment.readable().map((h) => h.partition);
  const assignment = createPartitionAssignment({
    redis,
    keys,
    partitions,
    group,
    consumerId,
    leaseTtlMs,
    drainTimeoutMs,
    log,
    unacknowledged: (partition) => delivered.get(partition)?.length ?? 0,
    // What was read ahead from it stays pending in Redis: the next owner claims it.
    onDropped: (partition) => (buffer = buffer.filter((entry) => entry.partition !== partition)),
  });

  function assignmentChanged(): void {
    const now = assigned();
    const text = now.join(',');
    if (text === lastAssignment) return;
    lastAssignment = text;
    log.info({ partitions: now }, 'journal partitions assigned');
    options.onAssignment?.(now);
    wake?.();
    if (blockingId !== undefined) redis.client('UNBLOCK', blockingId).catch(() => undefined);
  }

  function rebalance(): Promise<void> {
    ticking ??= assignment
      .tick()
      .catch((error: unknown) => log.warn({ err: error }, 'journal partition heartbeat failed; retrying (reads stay fenced by the leases)'))
      .finally(() => {
        ticking = undefined;
        if (!closed) assignmentChanged();
      });
    return ticking;
  }

  function track(partition: number, seq: number): void {
    const list = delivered.get(partition);
    if (list) list.push(seq);
    else delivered.set(partition, [seq]);
  }

  async function fetch(limit: number): Promise<ConsumerBatch> {
    const rejected: RejectedEntry[] = [];
    const from = assignment.readable();
    if (buffer.length < limit && from.length > 0) {
      const reply = await readScript(
        from.flatMap((h) => [keys.stream(h.partition), leaseKeys[h.partition] as string]),
        [group, consumerId, limit, ...from.flatMap((h) => [h.value, h.cursor])],
      );
      const foreign: Array<{ partition: number; id: string }> = [];
      reply.forEach((result, i) => {
        const h = from[i] as HeldPartition;
        // Read under a lease this consumer has let go of since: the next owner claims them.
        if (!assignment.holds(h)) return;
        if (result[0] === 'lost') return assignment.lose(h, 'read refused by the lease');
        const [mode, entries, last] = result as [string, StreamEntryReply[], string];
        h.cursor = mode === '>' ? '>' : (entries[entries.length - 1]?.[0] ?? h.cursor);
        h.lastSeen = entries[entries.length - 1]?.[0] ?? last;
        for (const [id, fields] of entries) {
          try {
            if (fields === null) throw new ClusterError('JOURNAL_ENTRY_MALFORMED', `partition ${h.partition}, entry ${id}: pending but deleted from the stream`);
            buffer.push(decodeStreamEntry(id, fields, h.partition));
          } catch (error) {
            const typed = toClusterError(error, `partition ${h.partition}`);
            let seq: number | undefined;
            try {
              seq = seqOfStreamId(id, h.partition);
              track(h.partition, seq);
            } catch {
              foreign.push({ partition: h.partition, id });
            }
            rejected.push({ partition: h.partition, id, seq, error: typed });
          }
        }
      });
      buffer.sort((a, b) => a.seq - b.seq);
      // An id the journal did not write cannot be acknowledged by position: acknowledge it now.
      await Promise.all(foreign.map(({ partition, id }) => redis.xack(keys.stream(partition), group, id)));
    }
    const entries = buffer.splice(0, limit);
    for (const entry of entries) track(entry.partition, entry.seq);
    return { entries, rejected };
  }

  async function wait(ms: number): Promise<void> {
    const from = assignment.readable();
    if (from.length === 0 || blockingId === undefined) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
      return;
    }
    await blocking
      .call('XREAD', 'BLOCK', ms, 'COUNT', 1, 'STREAMS', ...from.map((h) => keys.stream(h.partition)), ...from.map((h) => h.lastSeen))
      .catch(() => undefined);
  }

  const timer = setInterval(() => void rebalance(), renewEveryMs);
  timer.unref();
  await rebalance();

  return {
    group,
    consumerId,
    assigned,

    async read(readOptions = {}) {
      if (closed) throw new ClusterError('CONSUMER_CLOSED', `consumer ${consumerId} is closed`);
      if (reading) throw new ClusterError('JOURNAL_CONFIG', 'read is already running: one read at a time');
      const limit = readOptions.limit ?? 256;
      if (!Number.isSafeInteger(limit) || limit < 1) throw new ClusterError('JOURNAL_CONFIG', `limit must be a positive integer, got ${String(limit)}`);
      reading = true;
      try {
        let batch = await fetch(limit);
        const blockMs = Math.min(readOptions.blockMs ?? 0, renewEveryMs);
        if (batch.entries.length === 0 && batch.rejected.length === 0 && blockMs > 0 && !closed) {
          await wait(blockMs);
          if (!closed) batch = await fetch(limit);
        }
        return batch;
      } finally {
        reading = false;
      }
    },

    async ack(position) {
      if (!Number.isSafeInteger(position) || position < 0) throw new ClusterError('JOURNAL_CONFIG', `position must be a non-negative integer, got ${String(position)}`);
      const batches: Array<{ partition: number; seqs: number[] }> = [];
      for (const [partition, seqs] of delivered) {
        let n = 0;
        while (n < seqs.length && (seqs[n] as number) <= position) n += 1;
        if (n > 0) batches.push({ partition, seqs: seqs.slice(0, n) });
      }
      if (batches.length === 0) return 0;
      try {
        await Promise.all(batches.map(({ partition, seqs }) => redis.xack(keys.stream(partition), group, ...seqs.map((seq) => `${seq}-0`))));
      } catch (error) {
        // Kept: the next (cumulative) ack sends them again.
        throw toClusterError(error, 'cannot acknowledge journal entries');
      }
      let count = 0;
      for (const { partition, seqs } of batches) {
        const list = delivered.get(partition) ?? [];
        list.splice(0, seqs.length);
        if (list.length === 0) delivered.delete(partition);
        count += seqs.length;
        // A partition being handed back goes as soon as its last entry is acknowledged.
        if (list.length === 0) void rebalance();
      }
      return count;
    },

    unacknowledged: () => [...delivered.values()].reduce((sum, list) => sum + list.length, 0),

    rebalance,

    async close(closeOptions = {}) {
      if (closed) return;
      closed = true;
      assignment.stop();
      clearInterval(timer);
      wake?.();
      await ticking;
      if (closeOptions.handover ?? true) {
        try {
          await assignment.releaseAll();
        } catch (error) {
          log.warn({ err: error }, 'could not hand the journal partitions over; they move when their leases expire');
        }
      }
      buffer = [];
      blocking.disconnect();
    },
  };
}
