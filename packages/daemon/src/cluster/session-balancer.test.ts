import { describe, expect, it } from 'vitest';
import { useClusterRedis } from '../../test/cluster-harness.js';
import { createDaemonMembership, membershipTtlMs } from './daemon-membership.js';
import { createRedisKeys, type RedisKeys } from './redis-keys.js';
import { createSessionBalancer, type SessionBalancer, type SessionStopReason } from './session-balancer.js';
import { createSessionLeases, type LeaseTimings } from './session-lease.js';

const SESSIONS = Array.from({ length: 12 }, (_, i) => `s${String(i + 1).padStart(2, '0')}`);
const redisServer = useClusterRedis();

/** Where each session runs, across the daemons of one test: a second start of a running session is a violation. */
class Cluster {
  readonly running = new Map<string, string>();
  readonly violations: string[] = [];
  readonly stops: Array<{ daemon: string; sessionId: string; reason: SessionStopReason }> = [];
  constructor(readonly keys: RedisKeys) {}

  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const daemon of this.running.values()) counts[daemon] = (counts[daemon] ?? 0) + 1;
    return counts;
  }
}

function daemon(cluster: Cluster, id: string, timings: Partial<LeaseTimings>, busy: ReadonlySet<string> = new Set()): SessionBalancer {
  const redis = redisServer.connect();
  const subscriber = redisServer.connect();
  const leases = createSessionLeases({ redis, keys: cluster.keys, owner: id, timings });
  const tickMs = leases.timings.renewEveryMs;
  const balancer = createSessionBalancer({
    leases,
    membership: createDaemonMembership({ redis, keys: cluster.keys, daemonId: id, ttlMs: membershipTtlMs(tickMs, leases.timings.leaseMs) }),
    keys: cluster.keys,
    redis,
    subscriber,
    sessions: () => Promise.resolve(SESSIONS),
    isIdle: (sessionId) => !busy.has(sessionId),
    startSession(sessionId) {
      const other = cluster.running.get(sessionId);
      if (other !== undefined) cluster.violations.push(`${sessionId} started on ${id} while running on ${other}`);
      cluster.running.set(sessionId, id);
      return Promise.resolve();
    },
    stopSession(sessionId, reason) {
      cluster.stops.push({ daemon: id, sessionId, reason });
      if (cluster.running.get(sessionId) === id) cluster.running.delete(sessionId);
      return Promise.resolve();
    },
  });
  redisServer.afterTest(() => balancer.stop());
  return balancer;
}

const POLL = { timeout: 10_000, interval: 20 };

/** Daemons a, b and c over keys under `prefix`, started and holding 4 sessions each; returns c. */
async function threeDaemons(prefix: string, leaseMs: number): Promise<{ cluster: Cluster; c: SessionBalancer }> {
  const cluster = new Cluster(createRedisKeys(prefix));
  const all = ['a', 'b', 'c'].map((id) => daemon(cluster, id, { leaseMs }));
  for (const balancer of all) await balancer.start();
  await expect.poll(() => cluster.counts(), POLL).toEqual({ a: 4, b: 4, c: 4 });
  return { cluster, c: all[2] as SessionBalancer };
}

describe('session balancer', () => {
  it('divides 12 sessions fairly between two and then three daemons, never running one twice', async () => {
    const cluster = new Cluster(createRedisKeys('test-fair:'));
    const timings = { leaseMs: 1_500 };
    const a = daemon(cluster, 'a', timings);
    await a.start();
    expect(a.owned()).toEqual(SESSIONS);

    const b = daemon(cluster, 'b', timings);
    await b.start();
    await expect.poll(() => cluster.counts(), POLL).toEqual({ a: 6, b: 6 });

    const c = daemon(cluster, 'c', timings);
    await c.start();
    await expect.poll(() => cluster.counts(), POLL).toEqual({ a: 4, b: 4, c: 4 });
    expect([...a.owned(), ...b.owned(), ...c.owned()].sort()).toEqual(SESSIONS);
    expect(cluster.stops.every((s) => s.reason === 'rebalance')).toBe(true);
    expect(cluster.violations).toEqual([]);
  });

  it('moves only idle sessions to a daemon that joins', async () => {
    const cluster = new Cluster(createRedisKeys('test-idle:'));
    const busy = new Set(SESSIONS.slice(0, 8));
    const a = daemon(cluster, 'a', { leaseMs: 1_500 }, busy);
    await a.start();
    const b = daemon(cluster, 'b', { leaseMs: 1_500 });
    await b.start();
    // Four idle sessions can move; the eight busy ones stay, so a keeps more than its share.
    await expect.poll(() => cluster.counts(), POLL).toEqual({ a: 8, b: 4 });
    expect(a.owned()).toEqual(SESSIONS.slice(0, 8));
    busy.clear();
    await expect.poll(() => cluster.counts(), POLL).toEqual({ a: 6, b: 6 });
    expect(cluster.violations).toEqual([]);
  });

  it("takes a hung daemon's sessions within the lease time, after it stopped them itself", async () => {
    const { cluster, c } = await threeDaemons('test-hung:', 1_500);
    const hung = c.owned();
    const haltedAt = Date.now();
    c.halt();
    await expect.poll(() => cluster.counts(), POLL).toEqual({ a: 6, b: 6 });
    // The bound is the lease (its last renew and heartbeat were before the halt); the rest is slack for a loaded machine.
    expect(Date.now() - haltedAt).toBeLessThan(1_500 + 400);
    expect(cluster.stops.filter((s) => s.daemon === 'c').map((s) => [s.sessionId, s.reason])).toEqual(expect.arrayContaining(hung.map((id) => [id, 'lost'])));
    expect(cluster.violations).toEqual([]);
  });

  it("takes a dead daemon's sessions the moment its membership runs out when that comes after its leases, not at the next tick", async () => {
    const { cluster, c } = await threeDaemons('test-wake:', 3_000);
    c.halt();
    // c's last heartbeat came after its last renew: it stays a member (so the others' share
    // stays 4) 3.5 s from now, after every lease it holds (≤ 3 s) ran out.
    const redis = redisServer.connect();
    const [secs, micros] = await redis.time();
    const expiresIn = 3_500;
    const setAt = Date.now();
    await redis.zadd(cluster.keys.daemons, Number(secs) * 1000 + Math.floor(Number(micros) / 1000) + expiresIn, 'c');
    await expect.poll(() => cluster.counts(), { timeout: 10_000, interval: 10 }).toEqual({ a: 6, b: 6 });
    const tookMs = Date.now() - setAt;
    // Not before the membership ran out (the share did not allow it), and at once after it:
    // a tick (1 s) would come up to 1 s later. The margin is for a loaded machine.
    expect(tookMs).toBeGreaterThanOrEqual(expiresIn - 50);
    expect(tookMs).toBeLessThan(expiresIn + 350);
    expect(cluster.violations).toEqual([]);
  });

  it('hands a stopped daemon\'s sessions over at once instead of after the lease time', async () => {
    const { cluster, c } = await threeDaemons('test-handover:', 15_000);
    const stoppedAt = Date.now();
    await c.stop();
    await expect.poll(() => cluster.counts(), POLL).toEqual({ a: 6, b: 6 });
    // Below both the lease (15 s) and a tick (5 s): the others acted on the published news.
    expect(Date.now() - stoppedAt).toBeLessThan(2_500);
    expect(cluster.stops.filter((s) => s.daemon === 'c').every((s) => s.reason === 'shutdown' || s.reason === 'rebalance')).toBe(true);
    expect(cluster.violations).toEqual([]);
  });
});
