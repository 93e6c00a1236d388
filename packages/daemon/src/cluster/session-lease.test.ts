import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { useClusterRedis } from '../../test/cluster-harness.js';
import { createRedisAuthStore } from './redis-auth-store.js';
import { createRedisKeys } from './redis-keys.js';
import { createSessionLeases, leaseTimings, type LeaseLossReason, type LeaseTimings, type SessionLeases } from './session-lease.js';

const keys = createRedisKeys('test-lease:');
const timings = { leaseMs: 600 };
const cluster = useClusterRedis();
/** The connection of each holder, by owner. */
const connections = new Map<string, Redis>();

function holder(owner: string, leaseTimings: Partial<LeaseTimings> = timings): SessionLeases {
  const redis = cluster.connect();
  connections.set(owner, redis);
  const leases = createSessionLeases({ redis, keys, owner, timings: leaseTimings });
  cluster.afterTest(() => leases.close());
  return leases;
}

function lostEvents(leases: SessionLeases): Array<{ sessionId: string; reason: LeaseLossReason; at: number }> {
  const events: Array<{ sessionId: string; reason: LeaseLossReason; at: number }> = [];
  leases.onLost((sessionId, reason) => events.push({ sessionId, reason, at: Date.now() }));
  return events;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('session leases', () => {
  it('defaults to a 30 s lease renewed every 10 s and refuses timings that cannot renew in time', () => {
    expect(leaseTimings()).toEqual({ leaseMs: 30_000, renewEveryMs: 10_000, marginMs: 2_000 });
    expect(() => leaseTimings({ leaseMs: 1_000, renewEveryMs: 950 })).toThrow(/bad lease timings/);
  });

  it('gives a free session to one holder with an epoch that grows on every acquisition', async () => {
    const a = holder('a');
    const b = holder('b');
    const first = await a.acquire('s1');
    expect(first).toBeGreaterThan(0);
    expect(await b.acquire('s1')).toBeUndefined();
    expect(await a.acquire('s1')).toBe(first);
    expect(await b.holderOf('s1')).toEqual({ owner: 'a', epoch: first });

    expect(await a.release('s1')).toBe(true);
    expect(a.epochOf('s1')).toBeUndefined();
    const second = await b.acquire('s1');
    expect(second).toBe((first ?? 0) + 1);
    // A release with a stale epoch deletes nothing.
    expect(await a.release('s1')).toBe(false);
    expect(await a.holderOf('s1')).toEqual({ owner: 'b', epoch: second });
  });

  it('keeps a renewed lease past its lease time', async () => {
    const a = holder('a');
    const b = holder('b');
    const lost = lostEvents(a);
    const epoch = await a.acquire('s2');
    await sleep(1_500);
    expect(lost).toEqual([]);
    expect(a.epochOf('s2')).toBe(epoch);
    expect(await b.acquire('s2')).toBeUndefined();
  });

  it('reports a lease that stopped being renewed as lost before Redis lets anyone else take it', async () => {
    // A wide margin, so that the check of Redis after the loss has time even on a loaded machine.
    const a = holder('a', { leaseMs: 1_000, marginMs: 300 });
    const b = holder('b');
    const lost = lostEvents(a);
    let stillHeldInRedis: unknown;
    a.onLost((sessionId) => {
      void b.holderOf(sessionId).then((h) => (stillHeldInRedis = h));
    });
    const epoch = await a.acquire('s3');
    a.halt();
    await expect.poll(() => lost.length, { timeout: 2_000, interval: 20 }).toBe(1);
    expect(lost[0]).toMatchObject({ sessionId: 's3', reason: 'expired' });
    await expect.poll(() => stillHeldInRedis).toEqual({ owner: 'a', epoch });
    await expect.poll(() => b.acquire('s3'), { timeout: 2_000, interval: 50 }).toBe((epoch ?? 0) + 1);
  });

  it('reports a lease taken behind its back at the next renew', async () => {
    const a = holder('a');
    const b = holder('b');
    const lost = lostEvents(a);
    await a.acquire('s4');
    // The lease vanished from Redis (expired while this holder was cut off) and was taken.
    await connections.get('a')?.del(keys.session('s4').lease);
    expect(await b.acquire('s4')).toBeGreaterThan(0);
    await expect.poll(() => lost, { timeout: 1_000, interval: 20 }).toEqual([expect.objectContaining({ sessionId: 's4', reason: 'taken' })]);
    expect(a.held()).toEqual([]);
  });
});

describe('session leases across a Redis crash (AOF, appendfsync always)', () => {
  it('keeps a held lease held, epochs growing and the auth state after SIGKILL and restart', async () => {
    const a = holder('a', { leaseMs: 5_000 });
    const lost = lostEvents(a);
    const first = (await a.acquire('r1')) ?? 0;
    const redis = connections.get('a');
    if (!redis) throw new Error('no client');
    const auth = createRedisAuthStore(redis, keys);
    const session = await auth.open('r1', first);
    session.state.creds.me = { id: '4915100000001:4@s.whatsapp.net' };
    await session.saveCreds();
    await session.state.keys.set({ 'pre-key': { '5': { public: Buffer.from('pub'), private: Buffer.from('priv') } } });

    await cluster.server.kill();
    await cluster.server.restart();
    // The lease came back with its expiry; its holder renews it over the reconnected client.
    const b = holder('b', { leaseMs: 5_000 });
    expect(await b.acquire('r1')).toBeUndefined();
    await sleep(2_000);
    expect(lost).toEqual([]);
    expect(a.epochOf('r1')).toBe(first);
    await session.state.keys.set({ 'pre-key': { '6': { public: Buffer.from('pub6'), private: Buffer.from('priv6') } } });

    await a.release('r1');
    const second = (await b.acquire('r1')) ?? 0;
    expect(second).toBe(first + 1);
    await b.release('r1');
    await cluster.server.kill();
    await cluster.server.restart();
    expect(await b.acquire('r1')).toBe(second + 1);

    const reread = await createRedisAuthStore(redis, keys).open('r1', second + 1);
    expect(reread.state.creds.me?.id).toBe('4915100000001:4@s.whatsapp.net');
    expect(reread.state.creds.signedIdentityKey.private).toEqual(session.state.creds.signedIdentityKey.private);
    const preKeys = await reread.state.keys.get('pre-key', ['5', '6']);
    expect(preKeys['5']?.private).toEqual(Buffer.from('priv'));
    expect(preKeys['6']?.private).toEqual(Buffer.from('priv6'));
  }, 30_000);
});
