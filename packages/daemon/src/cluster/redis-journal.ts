/**
 * The journal on Redis Streams (cluster mode, DESIGN §8): the same job as the SQLite
 * journal (`storage/sqlite-journal.ts`), asynchronous, for several daemons and workers.
 *
 * - **Partitions.** An event goes to stream `journal:p:<n>`, n = `partitionOf(session, chat)`:
 *   one chat's events stay in order in one stream. The partition count is pinned in Redis at
 *   the first open (`journal:meta`); a daemon configured otherwise is refused.
 * - **Ids are seqs.** One Lua script takes the global `seq` (INCRBY) and XADDs the entries
 *   with explicit ids `<seq>-0`, so a stream id is the protocol's `seq`, ids rise in every
 *   stream, and `lastSeq` survives trimming and restarts (the counter is never trimmed).
 * - **Durable on return.** The append resolves when Redis replied, and Redis replies after
 *   it wrote (and, with `appendfsync always`, fsynced) the AOF: README, "Cluster mode".
 * - **Raw messages** live in their entry (field `r`, the SQLite journal's encoding), found
 *   through the hash `journal:messages` (session + message id → partition and seq). Trimming
 *   an entry drops its index row in the same script: the raw message has its entry's retention.
 * - **Groups.** A worker group is a Redis consumer group on every partition; its workers
 *   divide the partitions (`journal-consumer.ts`). Trimming goes only below what every group
 *   still needs (its oldest pending entry, else the first it was not delivered), then applies
 *   the retention policy to the acknowledged prefix. With no group nothing is trimmed.
 */
import { StickerbotError, chatOfEvent, type JournalEntry } from '@stickerbot/protocol';
import type { Redis } from 'ioredis';
import {
  decodeRawMessage,
  encodeRawMessage,
  type JournalAppend,
  type PruneOutcome,
  type RetentionPolicy,
} from '../storage/index.js';
import { DEFAULT_PARTITIONS, isValidPartitionCount, partitionOf } from './partition-of.js';
import { decodeStreamEntry, rawFieldOf, streamIdOf, type PartitionedEntry } from './redis-journal-codec.js';
import { ClusterError, defineScript, toClusterError } from './redis-connection.js';
import { APPEND_LUA, ENSURE_GROUP_LUA, PARTITION_STATUS_LUA, REMOVE_GROUP_LUA } from './redis-journal-scripts.js';
import { createRedisKeys, type JournalKeys } from './redis-keys.js';

/** The raw Baileys message type, as the storage contract names it. */
export type RawMessage = NonNullable<JournalAppend['raw']>;

/** Options of {@link openRedisJournal}. */
export interface RedisJournalOptions {
  /** The client for commands (never used for blocking reads). */
  redis: Redis;
  /** Key prefix (default `stickerbot:`). */
  prefix?: string;
  /** Partition streams (default 16); must equal what the cluster's journal was created with. */
  partitions?: number;
}

/** A consumer group's progress over every partition. */
export interface GroupStatus {
  group: string;
  /** Every entry with `seq` up to this one is acknowledged by the group (the SQLite journal's position). */
  position: number;
  /** Entries delivered to the group's consumers and not acknowledged. */
  pending: number;
  /** Entries not delivered to any of its consumers yet (-1 when Redis cannot tell for some partition). */
  undelivered: number;
  /** `pending + undelivered`: what the group still has to handle. */
  unacknowledged: number;
}

/** The journal on Redis Streams; see the module comment. */
export interface RedisJournal {
  readonly partitions: number;
  readonly keys: JournalKeys;
  /** The partition of an entry of this session with this event. */
  partitionOf(sessionId: string, event: JournalAppend['event']): number;
  /** Appends one entry; resolves once Redis has it durably (per its AOF policy). */
  append(input: JournalAppend): Promise<JournalEntry>;
  /** Appends a batch in one script (all or none), with consecutive seqs, in order. */
  appendMany(inputs: readonly JournalAppend[]): Promise<JournalEntry[]>;
  /** Entries of one partition with `seq > after`, in order, at most `limit` (admin, tests). */
  readPartition(partition: number, after: number, limit: number): Promise<PartitionedEntry[]>;
  /** The raw message journaled under this id of a session, while its entry is held; `INTERNAL` if it does not decode. */
  findRawMessage(sessionId: string, messageId: string): Promise<RawMessage | undefined>;
  /** Whether a raw message is journaled under this id of a session. */
  hasMessage(sessionId: string, messageId: string): Promise<boolean>;
  /**
   * Registers a consumer group on every partition if it is not known: from the first held
   * entry (`start`, default) or from the next appended one (`end`). Returns whether it was new.
   */
  ensureGroup(group: string, from?: 'start' | 'end'): Promise<boolean>;
  /** Forgets a consumer group (a retired one that would hold every entry forever). Returns whether it existed. */
  removeGroup(group: string): Promise<boolean>;
  /** The known consumer groups, sorted. */
  groups(): Promise<string[]>;
  /** The highest `seq` ever appended (0 when none). */
  lastSeq(): Promise<number>;
  /** Entries held now, over every partition. */
  count(): Promise<number>;
  /** Every group's progress (dashboard, `/readyz`, metrics). */
  positions(): Promise<GroupStatus[]>;
  /**
   * Trims per partition what no group needs and the policy lets go (oldest first, at most
   * `maxDelete` entries per call). `unacknowledged` is the slowest group's; `full` as in SQLite.
   */
  prune(policy: RetentionPolicy): Promise<PruneOutcome>;
}

type StatusRow = [group: string, pending: number, undelivered: number, needed: number];
type StreamEntryReply = [id: string, fields: string[]];

const GROUP_PATTERN = /^[a-z0-9_-]{1,64}$/;

/** Checks a consumer group name (the protocol's `[a-z0-9_-]{1,64}`); it becomes part of key names. */
export function assertGroupName(group: string): string {
  if (!GROUP_PATTERN.test(group)) throw new ClusterError('JOURNAL_CONFIG', `invalid consumer group "${group}": [a-z0-9_-]{1,64}`);
  return group;
}

function assertCount(value: number, what: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new StickerbotError('INVALID_ARGS', `${what} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

const messageKey = (sessionId: string, messageId: string): string => `${sessionId}\u0000${messageId}`;

/**
 * Opens the journal: pins the partition count at the first open and refuses another one
 * (`JOURNAL_CONFIG`), and refuses a journal whose streams hold ids beyond its `seq` counter
 * (`JOURNAL_INCONSISTENT`: appends would fail, better at start than on a receipt).
 */
export async function openRedisJournal(options: RedisJournalOptions): Promise<RedisJournal> {
  const { redis } = options;
  const partitions = options.partitions ?? DEFAULT_PARTITIONS;
  if (!isValidPartitionCount(partitions)) {
    throw new ClusterError('JOURNAL_CONFIG', `partitions must be an integer from 1 to 1024, got ${String(partitions)}`);
  }
  const { prefix, journal: keys } = createRedisKeys(options.prefix);
  const streams = Array.from({ length: partitions }, (_, p) => keys.stream(p));
  let pinned: string | null;
  let lastIds: (string | null)[];
  let counter: string | null;
  try {
    await redis.hsetnx(keys.meta, 'partitions', String(partitions));
    pinned = await redis.hget(keys.meta, 'partitions');
    counter = await redis.get(keys.seq);
    lastIds = await Promise.all(
      streams.map(async (stream) => {
        const info = (await redis.call('XINFO', 'STREAM', stream).catch(() => null)) as unknown[] | null;
        if (!info) return null;
        const at = info.indexOf('last-generated-id');
        return at < 0 ? null : String(info[at + 1]);
      }),
    );
  } catch (error) {
    throw toClusterError(error, 'cannot open the Redis journal');
  }
  if (pinned !== String(partitions)) {
    throw new ClusterError(
      'JOURNAL_CONFIG',
      `the Redis journal under "${prefix}" has ${String(pinned)} partitions, this daemon is configured with ${partitions}: ` +
        'a chat would move to another stream and lose its order; use the same partition count everywhere',
    );
  }
  const seqNow = Number(counter ?? 0);
  lastIds.forEach((id, p) => {
    const top = id === null ? 0 : Number(id.split('-')[0]);
    if (top > seqNow) {
      throw new ClusterError('JOURNAL_INCONSISTENT', `partition ${p} holds id ${String(id)} beyond the journal's seq ${seqNow} (was ${keys.seq} deleted?)`);
    }
  });
  return createRedisJournal(redis, keys, partitions);
}

function createRedisJournal(redis: Redis, keys: JournalKeys, partitions: number): RedisJournal {
  const streams = Array.from({ length: partitions }, (_, p) => keys.stream(p));
  const appendScript = defineScript<number>(redis, 'stickerbotJournalAppend', 'any', APPEND_LUA);
  const statusScript = defineScript<[number, ...StatusRow[]]>(redis, 'stickerbotJournalStatus', 'any', PARTITION_STATUS_LUA);
  const ensureGroupScript = defineScript<number>(redis, 'stickerbotJournalEnsureGroup', 'any', ENSURE_GROUP_LUA);
  const removeGroupScript = defineScript<number>(redis, 'stickerbotJournalRemoveGroup', 'any', REMOVE_GROUP_LUA);

  const partitionFor = (sessionId: string, event: JournalAppend['event']): number => partitionOf(sessionId, chatOfEvent(event), partitions);

  async function appendBatch(inputs: readonly JournalAppend[]): Promise<JournalEntry[]> {
    const streamIndex = new Map<number, number>();
    const usedPartitions: number[] = [];
    const args: (string | number)[] = [];
    const entries: JournalEntry[] = [];
    for (const { sessionId, event, raw, ts } of inputs) {
      const partition = partitionFor(sessionId, event);
      let index = streamIndex.get(partition);
      if (index === undefined) {
        usedPartitions.push(partition);
        // KEYS: seq, messages, then the streams (Lua indexes from 1).
        index = usedPartitions.length + 2;
        streamIndex.set(partition, index);
      }
      const at = ts ?? Date.now();
      const messageId = event.type === 'message:received' && raw !== undefined ? event.message.id : '';
      const rawText = messageId === '' || raw === undefined ? '' : encodeRawMessage(raw, event.type === 'message:received' && event.message.media !== undefined);
      args.push(index, sessionId, at, JSON.stringify(event), messageId, rawText);
      entries.push({ seq: 0, sessionId, ts: at, event });
    }
    const first = await appendScript(
      [keys.seq, keys.messages, ...usedPartitions.map((p) => keys.stream(p))],
      [inputs.length, ...args, ...usedPartitions],
    );
    return entries.map((entry, i) => ({ ...entry, seq: first + i }));
  }

  async function partitionStatus(partition: number, boundary: number, cutoff: number, limit: number): Promise<{ trimmed: number; rows: StatusRow[] }> {
    const [trimmed, ...rows] = await statusScript([keys.stream(partition), keys.messages], [boundary, cutoff, limit, partition]);
    return { trimmed, rows };
  }

  /** Per group: position, pending, undelivered, over every partition (statuses read after `lastSeq`). */
  function aggregate(statuses: readonly StatusRow[][], lastSeq: number): GroupStatus[] {
    const byGroup = new Map<string, GroupStatus>();
    for (const rows of statuses) {
      for (const [group, pending, undelivered, needed] of rows) {
        const status = byGroup.get(group) ?? { group, position: lastSeq, pending: 0, undelivered: 0, unacknowledged: 0 };
        status.pending += pending;
        status.undelivered = status.undelivered < 0 || undelivered < 0 ? -1 : status.undelivered + undelivered;
        if (needed > 0) status.position = Math.min(status.position, needed - 1);
        byGroup.set(group, status);
      }
    }
    return [...byGroup.values()]
      .map((status) => ({ ...status, unacknowledged: status.pending + Math.max(0, status.undelivered) }))
      .sort((a, b) => a.group.localeCompare(b.group));
  }

  const lastSeq = async (): Promise<number> => {
    try {
      return Number((await redis.get(keys.seq)) ?? 0);
    } catch (error) {
      throw toClusterError(error, 'cannot read the journal seq');
    }
  };

  async function readRaw(sessionId: string, messageId: string): Promise<string | undefined> {
    const where = await redis.hget(keys.messages, messageKey(sessionId, messageId));
    if (where === null) return undefined;
    const [partition, seq] = where.split(':').map(Number) as [number, number];
    const found = (await redis.xrange(keys.stream(partition), streamIdOf(seq), streamIdOf(seq))) as StreamEntryReply[];
    const fields = found[0]?.[1];
    return fields === undefined ? undefined : rawFieldOf(fields);
  }

  async function count(): Promise<number> {
    try {
      const lengths = await Promise.all(streams.map((stream) => redis.xlen(stream)));
      return lengths.reduce((sum, n) => sum + n, 0);
    } catch (error) {
      throw toClusterError(error, 'cannot count the journal');
    }
  }

  return {
    partitions,
    keys,
    partitionOf: partitionFor,

    async append(input) {
      const [entry] = await appendBatch([input]);
      return entry as JournalEntry;
    },

    appendMany: (inputs) => (inputs.length === 0 ? Promise.resolve([]) : appendBatch(inputs)),

    async readPartition(partition, after, limit) {
      assertCount(partition, 'partition', 0);
      if (partition >= partitions) throw new StickerbotError('INVALID_ARGS', `partition must be below ${partitions}, got ${partition}`);
      assertCount(after, 'after', 0);
      assertCount(limit, 'limit', 1);
      let found: StreamEntryReply[];
      try {
        found = await redis.xrange(keys.stream(partition), `(${streamIdOf(Math.max(after, 0))}`, '+', 'COUNT', limit);
      } catch (error) {
        throw toClusterError(error, `cannot read partition ${partition}`);
      }
      return found.map(([id, fields]) => decodeStreamEntry(id, fields, partition));
    },

    async findRawMessage(sessionId, messageId) {
      const raw = await readRaw(sessionId, messageId).catch((error: unknown) => {
        throw toClusterError(error, 'cannot read a journaled message');
      });
      if (raw === undefined) return undefined;
      try {
        return decodeRawMessage(raw);
      } catch (cause) {
        throw new StickerbotError('INTERNAL', `the journaled message ${messageId} of session "${sessionId}" cannot be read`, { cause });
      }
    },

    async hasMessage(sessionId, messageId) {
      try {
        return (await redis.hexists(keys.messages, messageKey(sessionId, messageId))) === 1;
      } catch (error) {
        throw toClusterError(error, 'cannot look up a journaled message');
      }
    },

    async ensureGroup(group, from = 'start') {
      assertGroupName(group);
      return (await ensureGroupScript([keys.groups, ...streams], [group, from === 'start' ? '0' : '$'])) === 1;
    },

    async removeGroup(group) {
      assertGroupName(group);
      return (await removeGroupScript([keys.groups, ...streams], [group])) === 1;
    },

    async groups() {
      try {
        return (await redis.smembers(keys.groups)).sort();
      } catch (error) {
        throw toClusterError(error, 'cannot list the consumer groups');
      }
    },

    lastSeq,
    count,

    async positions() {
      const seq = await lastSeq();
      const statuses = await Promise.all(streams.map((_, p) => partitionStatus(p, 0, 0, 0)));
      return aggregate(
        statuses.map((status) => status.rows),
        seq,
      );
    },

    async prune(policy) {
      const now = policy.now ?? Date.now();
      const maxCount = assertCount(policy.maxCount, 'maxCount', 0);
      let room = policy.maxDelete === undefined ? Number.POSITIVE_INFINITY : assertCount(policy.maxDelete, 'maxDelete', 0);
      const seq = await lastSeq();
      const boundary = seq - maxCount;
      const cutoff = now - policy.maxAgeMs;
      let pruned = 0;
      const rows: StatusRow[][] = [];
      // One partition at a time: each script call trims a bounded range, so Redis is never
      // blocked for long by one call, and `maxDelete` bounds the whole pass.
      for (let p = 0; p < partitions; p += 1) {
        const limit = Math.min(room, 10_000);
        const status = await partitionStatus(p, boundary, cutoff, Number.isFinite(limit) ? limit : 10_000);
        pruned += status.trimmed;
        room -= status.trimmed;
        rows.push(status.rows);
      }
      const groups = aggregate(rows, seq);
      const unacknowledged = groups.length === 0 ? await count() : Math.max(...groups.map((group) => group.unacknowledged));
      return { pruned, unacknowledged, full: unacknowledged > policy.maxUnacknowledged };
    },
  };
}
