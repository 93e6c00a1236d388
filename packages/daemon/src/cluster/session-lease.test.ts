import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type TestRedisServer } from '../test-kit/index.js';
import { createRedisConnection } from './redis-connection.js';
import { createRedisKeys } from './redis-keys.js';
import { createSessionLeases, leaseTimings, type LeaseLossReason, type SessionLeases } from './session-lease.js';

const keys = createRedisKeys('test-lease:');
const timings = { leaseMs: 600 };
let server: TestRedisServer;
const clients: Redis[] = [];
const holders: SessionLeases[] = [];

beforeAll(async () => {
  server = await startRedisServer();
});
afterEach(async () => {
  for (const holder of holders.splice(0)) await holder.close().catch(() => undefined);
  for (const client of clients.splice(0)) client.disconnect();
});
afterAll(async () => {
  await server?.close();
});

function holder(owner: string): SessionLeases {
  const redis = createRedisConnection(server.url);
  clients.push(redis);
  const leases = createSessionLeases({ redis, keys, owner, timings });
  holders.push(leases);
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
    const a = holder('a');
    const b = holder('b');
    const lost = lostEvents(a);
    let stillHeldInRedis: unknown;
    a.onLost((sessionId) => {
      void b.holderOf(sessionId).then((h) => (stillHeldInRedis = h));
    });
    const epoch = await a.acquire('s3');
    const acquiredAt = Date.now();
    a.halt();
    await expect.poll(() => lost.length, { timeout: 2_000, interval: 20 }).toBe(1);
    expect(lost[0]).toMatchObject({ sessionId: 's3', reason: 'expired' });
    expect((lost[0]?.at ?? 0) - acquiredAt).toBeLessThan(600);
    await expect.poll(() => stillHeldInRedis).toEqual({ owner: 'a', epoch });
    await expect.poll(() => b.acquire('s3'), { timeout: 2_000, interval: 50 }).toBe((epoch ?? 0) + 1);
  });

  it('reports a lease taken behind its back at the next renew', async () => {
    const a = holder('a');
    const b = holder('b');
    const lost = lostEvents(a);
    await a.acquire('s4');
    // The lease vanished from Redis (expired while this holder was cut off) and was taken.
    await clients[0]?.del(keys.session('s4').lease);
    expect(await b.acquire('s4')).toBeGreaterThan(0);
    await expect.poll(() => lost, { timeout: 1_000, interval: 20 }).toEqual([expect.objectContaining({ sessionId: 's4', reason: 'taken' })]);
    expect(a.held()).toEqual([]);
  });
});
