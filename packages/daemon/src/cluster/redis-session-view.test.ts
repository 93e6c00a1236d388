import { describe, expect, it } from 'vitest';
import { useClusterRedis } from '../../test/cluster-harness.js';
import { createRedisKeys } from './redis-keys.js';
import { createRedisSessionStore } from './redis-session-store.js';
import { createRedisSessionView } from './redis-session-view.js';
import { createSessionLeases } from './session-lease.js';

const redis = useClusterRedis();

/** Two daemons' views over one Redis, each with its own leases. */
function twoDaemons(prefix: string) {
  const keys = createRedisKeys(prefix);
  const client = redis.connect();
  const store = createRedisSessionStore(client, keys);
  const daemon = (owner: string) => {
    const leases = createSessionLeases({ redis: client, keys, owner, timings: { leaseMs: 5_000 } });
    redis.afterTest(() => leases.close());
    return { leases, view: createRedisSessionView({ store, epochOf: (id) => leases.epochOf(id) }) };
  };
  return { store, a: daemon('a'), b: daemon('b') };
}

describe('the synchronous view of the sessions in Redis', () => {
  it("writes the owner's status fenced, never a non-owner's, and registers without overwriting", async () => {
    const { store, a, b } = twoDaemons('test-view:');
    a.view.save({ id: 'shop', status: 'STOPPED', autostart: true });
    await a.view.flush();
    // b registers the same id before it learnt of it: a's record stands.
    b.view.save({ id: 'shop', status: 'STOPPED', autostart: false });
    await b.view.flush();
    expect(await store.get('shop')).toMatchObject({ status: 'STOPPED', autostart: true });
    await b.view.refresh();
    expect(b.view.get('shop')).toMatchObject({ autostart: true });

    expect(await a.leases.acquire('shop')).toBe(1);
    a.view.save({ id: 'shop', status: 'CONNECTED', autostart: true, account: { jid: '15550000001@s.whatsapp.net' } });
    // b does not hold it: its status is not written.
    b.view.save({ id: 'shop', status: 'STOPPED', autostart: true });
    await Promise.all([a.view.flush(), b.view.flush()]);
    expect(await store.get('shop')).toMatchObject({ status: 'CONNECTED', account: { jid: '15550000001@s.whatsapp.net' } });
    expect((await b.view.refresh()).map((s) => s.status)).toEqual(['CONNECTED']);
    expect(b.view.get('shop')?.status).toBe('CONNECTED');

    // The session moves to b: now b's status is written, and a reads it back.
    await a.leases.release('shop');
    expect(await b.leases.acquire('shop')).toBe(2);
    b.view.save({ id: 'shop', status: 'QR_REQUIRED', autostart: true });
    await b.view.flush();
    expect((await store.get('shop'))?.status).toBe('QR_REQUIRED');
    expect((await a.view.fetch('shop'))?.status).toBe('QR_REQUIRED');
  });
});
