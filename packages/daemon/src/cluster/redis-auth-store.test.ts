import { initAuthCreds, proto } from '@whiskeysockets/baileys';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { useClusterRedis } from '../../test/cluster-harness.js';
import { createLeasedAuthStore, createRedisAuthStore, type RedisAuthStore } from './redis-auth-store.js';
import { isClusterError } from './redis-connection.js';
import { createRedisKeys } from './redis-keys.js';
import { createSessionLeases, type SessionLeases } from './session-lease.js';

const keys = createRedisKeys('test-auth:');
const cluster = useClusterRedis();

function daemon(owner: string): { leases: SessionLeases; auth: RedisAuthStore; redis: Redis } {
  const redis = cluster.connect();
  const leases = createSessionLeases({ redis, keys, owner, timings: { leaseMs: 5_000 } });
  cluster.afterTest(() => leases.close());
  return { leases, auth: createRedisAuthStore(redis, keys), redis };
}

async function expectFenced(write: Promise<unknown>): Promise<void> {
  const error = await write.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isClusterError(error, 'LEASE_FENCED'), String(error)).toBe(true);
}

describe('Redis auth store', () => {
  it('stores creds and Signal keys with their Buffers and reads them back in a new process view', async () => {
    const a = daemon('a');
    const epoch = (await a.leases.acquire('s1')) ?? 0;
    const session = await a.auth.open('s1', epoch);
    expect(session.hasCredentials()).toBe(false);
    session.state.creds.me = { id: '4915100000001:2@s.whatsapp.net', lid: '123456789:2@lid' };
    await session.saveCreds();
    const appKey = proto.Message.AppStateSyncKeyData.fromObject({ keyData: Buffer.from('app-key'), timestamp: 7 });
    await session.state.keys.set({
      'pre-key': { '1': { public: Buffer.from('pub-1'), private: Buffer.from('priv-1') }, '2': { public: Buffer.from('pub-2'), private: Buffer.from('priv-2') } },
      'app-state-sync-key': { AAA: appKey },
      'lid-mapping': { '4915200000002': '987654321', '987654321_reverse': '4915200000002' },
    });
    expect(session.phoneOfLid('987654321:3@lid')).toBe('4915200000002@s.whatsapp.net');

    const b = daemon('b');
    expect(await b.auth.hasCredentials('s1')).toBe(true);
    expect(await b.auth.keyCount('s1')).toBe(5);
    const reread = await b.auth.open('s1', epoch);
    expect(reread.state.creds.me?.id).toBe('4915100000001:2@s.whatsapp.net');
    expect(Buffer.isBuffer(reread.state.creds.noiseKey.private)).toBe(true);
    expect(reread.state.creds.noiseKey.private).toEqual(session.state.creds.noiseKey.private);
    const preKeys = await reread.state.keys.get('pre-key', ['1', '2', '3']);
    expect(Object.keys(preKeys)).toEqual(['1', '2']);
    expect(preKeys['1']?.private).toEqual(Buffer.from('priv-1'));
    const apps = await reread.state.keys.get('app-state-sync-key', ['AAA']);
    expect(apps.AAA).toBeInstanceOf(proto.Message.AppStateSyncKeyData);
    expect(Buffer.from(apps.AAA?.keyData ?? [])).toEqual(Buffer.from('app-key'));
    // The LID mirror is loaded on open.
    expect(reread.phoneOfLid('987654321@lid')).toBe('4915200000002@s.whatsapp.net');
    expect(reread.phoneOfLid('4915200000002@s.whatsapp.net')).toBeUndefined();

    await session.state.keys.set({ 'pre-key': { '1': null }, 'lid-mapping': { '987654321_reverse': null } });
    expect(Object.keys(await reread.state.keys.get('pre-key', ['1', '2']))).toEqual(['2']);
    expect(session.phoneOfLid('987654321@lid')).toBeUndefined();
  });

  it('refuses every write of a holder whose lease was taken over, and writes nothing of it', async () => {
    const a = daemon('a');
    const b = daemon('b');
    const oldEpoch = (await a.leases.acquire('s2')) ?? 0;
    const stale = await a.auth.open('s2', oldEpoch);
    await stale.saveCreds();
    // The lease moves on (here released; a paused holder's lease expires the same way).
    await a.redis.del(keys.session('s2').lease);
    await expectFenced(stale.saveCreds());
    const newEpoch = (await b.leases.acquire('s2')) ?? 0;
    expect(newEpoch).toBeGreaterThan(oldEpoch);
    const owner = await b.auth.open('s2', newEpoch);
    owner.state.creds.me = { id: '4915100000003@s.whatsapp.net' };
    await owner.saveCreds();

    stale.state.creds.me = { id: '4915100000666@s.whatsapp.net' };
    await expectFenced(stale.saveCreds());
    await expectFenced(
      Promise.resolve(
        stale.state.keys.set({ session: { 'a.0': Buffer.from('x'), 'b.0': Buffer.from('y') }, 'pre-key': { '9': { public: Buffer.from('p'), private: Buffer.from('q') } } }),
      ),
    );
    await expectFenced(stale.clear());
    expect(await b.auth.keyCount('s2')).toBe(0);
    const now = await b.auth.open('s2', newEpoch);
    expect(now.state.creds.me?.id).toBe('4915100000003@s.whatsapp.net');
    expect(now.state.creds.noiseKey.private).toEqual(owner.state.creds.noiseKey.private);

    // The owner's own clear goes through.
    await owner.state.keys.set({ session: { 'c.0': Buffer.from('z') } });
    await owner.clear();
    expect(await b.auth.hasCredentials('s2')).toBe(false);
    expect(await b.auth.keyCount('s2')).toBe(0);
  });

  it('starts a session without stored creds from fresh ones', async () => {
    const a = daemon('a');
    const session = await a.auth.open('fresh', (await a.leases.acquire('fresh')) ?? 0);
    expect(Object.keys(session.state.creds).sort()).toEqual(Object.keys(initAuthCreds()).sort());
    expect(await a.auth.hasCredentials('fresh')).toBe(false);
  });

  it('serves the supervisor only the sessions it holds', async () => {
    const a = daemon('a');
    const view = createLeasedAuthStore();
    expect(() => view.open('s3')).toThrow(expect.objectContaining({ code: 'LEASE_NOT_HELD' }));
    const session = await a.auth.open('s3', (await a.leases.acquire('s3')) ?? 0);
    view.attach(session);
    const { state, saveCreds } = view.open('s3');
    expect(state).toBe(session.state);
    await saveCreds();
    expect(await a.auth.keyCount('s3')).toBe(0);
    expect(view.hasCredentials('s3')).toBe(false);
    view.detach('s3');
    expect(view.phoneOfLid('s3', '1@lid')).toBeUndefined();
    expect(() => view.clear('s3')).toThrow(expect.objectContaining({ code: 'LEASE_NOT_HELD' }));
  });
});
