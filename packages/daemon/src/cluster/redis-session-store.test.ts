import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type TestRedisServer } from '../test-kit/index.js';
import { createRedisConnection, isClusterError } from './redis-connection.js';
import { createRedisKeys } from './redis-keys.js';
import { createRedisSessionStore, type RedisSessionStore } from './redis-session-store.js';
import { createSessionLeases } from './session-lease.js';

const keys = createRedisKeys('test-sessions:');
let server: TestRedisServer;
let redis: Redis;
let other: Redis;
let store: RedisSessionStore;

beforeAll(async () => {
  server = await startRedisServer();
  redis = createRedisConnection(server.url);
  other = createRedisConnection(server.url);
  store = createRedisSessionStore(redis, keys);
});
afterAll(async () => {
  redis?.disconnect();
  other?.disconnect();
  await server?.close();
});

describe('Redis session store', () => {
  it('lets every daemon see every session, keeping createdAt across updates', async () => {
    await store.save({ id: 'shop', status: 'STOPPED', autostart: true, updatedAt: 1_000 });
    await store.save({ id: 'home', status: 'STOPPED', autostart: false, updatedAt: 2_000 });
    const updated = await store.save({
      id: 'shop',
      status: 'CONNECTED',
      autostart: true,
      account: { jid: '4915100000001@s.whatsapp.net', phone: '4915100000001' },
      updatedAt: 3_000,
    });
    expect(updated).toEqual({
      id: 'shop',
      status: 'CONNECTED',
      autostart: true,
      account: { jid: '4915100000001@s.whatsapp.net', phone: '4915100000001' },
      createdAt: 1_000,
      updatedAt: 3_000,
    });
    const elsewhere = createRedisSessionStore(other, keys);
    expect((await elsewhere.list()).map((s) => [s.id, s.status])).toEqual([
      ['shop', 'CONNECTED'],
      ['home', 'STOPPED'],
    ]);
    expect(await elsewhere.autostartIds()).toEqual(['shop']);
    await elsewhere.remove('home');
    expect(await store.get('home')).toBeUndefined();
  });

  it("refuses a status update from a daemon whose lease moved on, and keeps the owner's", async () => {
    const a = createSessionLeases({ redis, keys, owner: 'a', timings: { leaseMs: 5_000 } });
    const b = createSessionLeases({ redis: other, keys, owner: 'b', timings: { leaseMs: 5_000 } });
    try {
      await store.save({ id: 'moving', status: 'STOPPED', autostart: true });
      const oldEpoch = (await a.acquire('moving')) ?? 0;
      await store.save({ id: 'moving', status: 'CONNECTED', autostart: true }, oldEpoch);
      await redis.del(keys.session('moving').lease);
      const newEpoch = (await b.acquire('moving')) ?? 0;
      await store.save({ id: 'moving', status: 'CONNECTING', autostart: true }, newEpoch);
      const refused = await store.save({ id: 'moving', status: 'ERROR', autostart: true }, oldEpoch).catch((e: unknown) => e);
      expect(isClusterError(refused, 'LEASE_FENCED')).toBe(true);
      expect((await store.get('moving'))?.status).toBe('CONNECTING');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('reports a record it cannot read as CLUSTER_DATA', async () => {
    await redis.hset(keys.sessions, 'broken', '{"id":"broken","status":"DANCING"}');
    const error = await store.get('broken').catch((e: unknown) => e);
    expect(isClusterError(error, 'CLUSTER_DATA')).toBe(true);
    await redis.hdel(keys.sessions, 'broken');
  });
});
