/**
 * One consumer's side of the partition leases (`partition-leases.ts`): which partitions it
 * holds, and the rebalance round that heartbeats, renews, hands back extras once their
 * delivered entries are acknowledged, takes free partitions up to its fair share, and claims
 * a taken partition's pending entries before it may be read. The consumer
 * (`journal-consumer.ts`) reads what {@link PartitionAssignment.readable} lists.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { CONSUMER_CLAIM_LUA } from './journal-consumer-scripts.js';
import { leaseScripts } from './lease-scripts.js';
import { PARTITION_TICK_LUA, fairShare, preferenceOrder } from './partition-leases.js';
import { defineScript } from './redis-connection.js';
import type { JournalKeys } from './redis-keys.js';

/** A partition this consumer holds the lease of. */
export interface HeldPartition {
  readonly partition: number;
  /** Its lease's epoch. */
  readonly epoch: number;
  /** The lease value `<consumerId> <epoch>`: what every fenced script checks. */
  readonly value: string;
  /** `draining`: being handed back, no longer read, released once its entries are acknowledged. */
  state: 'reading' | 'draining';
  /** Whether the previous owner's pending entries are claimed: only then is it read (else they would wait forever). */
  claimed: boolean;
  /** `>` (new entries) or the id after which this consumer's own pending entries are read. */
  cursor: string;
  /** The stream id a blocking wait starts after. */
  lastSeen: string;
  drainingSince: number;
}

/** Options of {@link createPartitionAssignment}. */
export interface PartitionAssignmentOptions {
  redis: Redis;
  keys: JournalKeys;
  partitions: number;
  group: string;
  consumerId: string;
  leaseTtlMs: number;
  drainTimeoutMs: number;
  log: Logger;
  /** Entries of the partition handed out and not acknowledged (a partition is handed back when none are). */
  unacknowledged(partition: number): number;
  /** The partition stops being read (lost or handed back): drop what was read ahead from it. */
  onDropped(partition: number): void;
}

/** See the module comment. */
export interface PartitionAssignment {
  /** The partitions to read now, ascending. */
  readable(): HeldPartition[];
  /** Whether `held` is still this consumer's, in the same state. */
  holds(held: HeldPartition): boolean;
  /** Forgets a partition a fenced script found taken. */
  lose(held: HeldPartition, why: string): void;
  /** One rebalance round (heartbeat, renewals, hand-backs, takes, claims). */
  tick(): Promise<void>;
  /** Releases every lease and leaves the live set (a graceful stop). */
  releaseAll(): Promise<void>;
  /** Stops acting on replies (the consumer closed). */
  stop(): void;
}

const CLAIM_COUNT = 1_000;

/** Creates one consumer's assignment; nothing is held until the first {@link PartitionAssignment.tick}. */
export function createPartitionAssignment(options: PartitionAssignmentOptions): PartitionAssignment {
  const { redis, keys, partitions, group, consumerId, leaseTtlMs, drainTimeoutMs, log } = options;
  const tickScript = defineScript<[string[], string[]]>(redis, 'stickerbotPartitionTick', 'any', PARTITION_TICK_LUA);
  const lease = leaseScripts(redis);
  const claimScript = defineScript<['lost'] | [string, number]>(redis, 'stickerbotConsumerClaim', 2, CONSUMER_CLAIM_LUA);
  const leaseKeys = Array.from({ length: partitions }, (_, p) => keys.lease(group, p));
  const order = preferenceOrder(consumerId, partitions);
  const held = new Map<number, HeldPartition>();
  let stopped = false;

  function drop(h: HeldPartition): void {
    held.delete(h.partition);
    options.onDropped(h.partition);
  }

  function lose(h: HeldPartition, why: string): void {
    if (held.get(h.partition) !== h) return;
    drop(h);
    log.warn({ partition: h.partition, why }, 'journal partition lost');
  }

  async function release(h: HeldPartition): Promise<void> {
    drop(h);
    await lease.release(leaseKeys[h.partition] as string, consumerId, h.epoch);
  }

  /** Claims every pending entry of the group on a partition just taken; they are read first. */
  async function claimAll(h: HeldPartition): Promise<void> {
    let start = '0-0';
    let claimed = 0;
    do {
      const reply = await claimScript([keys.stream(h.partition), leaseKeys[h.partition] as string], [group, consumerId, h.value, start, CLAIM_COUNT]);
      if (reply[0] === 'lost') return lose(h, 'lease lost while claiming');
      const [next, count] = reply as [string, number];
      start = next;
      claimed += count;
    } while (start !== '0-0');
    h.claimed = true;
    if (claimed > 0) log.info({ partition: h.partition, claimed }, "claimed the previous owner's pending entries");
  }

  /** Marks the partitions beyond `target` to hand back, furthest down the preference order first. */
  function shed(target: number, now: number): void {
    const current = [...held.values()].filter((h) => h.state === 'reading');
    if (current.length <= target) return;
    const rank = (p: number): number => order.indexOf(p);
    for (const h of current.sort((a, b) => rank(b.partition) - rank(a.partition)).slice(0, current.length - target)) {
      h.state = 'draining';
      h.drainingSince = now;
      options.onDropped(h.partition);
    }
  }

  async function releaseDrained(now: number): Promise<void> {
    for (const h of [...held.values()]) {
      if (h.state !== 'draining') continue;
      const waiting = options.unacknowledged(h.partition);
      if (waiting > 0 && now - h.drainingSince < drainTimeoutMs) continue;
      if (waiting > 0) log.warn({ partition: h.partition, unacknowledged: waiting }, 'handing a partition back with entries not acknowledged: the next owner delivers them again');
      await release(h);
    }
  }

  async function take(target: number, owners: readonly string[]): Promise<void> {
    let need = target - [...held.values()].filter((h) => h.state === 'reading').length;
    for (const p of order) {
      if (need <= 0 || stopped) break;
      if (owners[p] !== '' || held.has(p)) continue;
      const epoch = await lease.acquire(leaseKeys[p] as string, keys.epoch(group, p), consumerId, leaseTtlMs);
      if (epoch === undefined) continue;
      held.set(p, { partition: p, epoch, value: `${consumerId} ${epoch}`, state: 'reading', claimed: false, cursor: '0-0', lastSeen: '0-0', drainingSince: 0 });
      need -= 1;
    }
    // Also retries a claim that failed in an earlier round.
    for (const h of [...held.values()]) if (!h.claimed && h.state === 'reading' && !stopped) await claimAll(h);
  }

  return {
    readable: () => [...held.values()].filter((h) => h.state === 'reading' && h.claimed).sort((a, b) => a.partition - b.partition),
    holds: (h) => held.get(h.partition) === h && h.state === 'reading',
    lose,
    async tick() {
      const owned = [...held.values()].flatMap((h) => [h.partition, h.value]);
      const [live, owners] = await tickScript([keys.consumers(group), ...leaseKeys], [consumerId, leaseTtlMs, ...owned]);
      if (stopped) return;
      for (const h of [...held.values()]) if (owners[h.partition] !== h.value) lose(h, 'lease expired or taken');
      const target = fairShare(live, partitions, consumerId);
      const now = Date.now();
      shed(target, now);
      await releaseDrained(now);
      await take(target, owners);
    },
    async releaseAll() {
      const all = [...held.values()];
      held.clear();
      await Promise.all(all.map((h) => lease.release(leaseKeys[h.partition] as string, consumerId, h.epoch)));
      await redis.zrem(keys.consumers(group), consumerId);
    },
    stop() {
      stopped = true;
    },
  };
}
