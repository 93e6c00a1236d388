/**
 * A child process that holds one session's lease and writes its auth state to Redis, as an
 * owning daemon does (cluster-fencing.test.ts). Every 50 ms it writes one Signal key named
 * by a counter and reports each outcome (with when it was issued) as a JSON line on stdout; it reports a lost lease too.
 * Environment: REDIS_URL, KEY_PREFIX, SESSION_ID, LEASE_MS.
 */
import { createRedisAuthStore, createRedisConnection, createRedisKeys, createSessionLeases, isClusterError } from '@stickerbot/daemon';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ ...line, at: Date.now() })}\n`);

const redis = createRedisConnection(env('REDIS_URL'));
const keys = createRedisKeys(env('KEY_PREFIX'));
const sessionId = env('SESSION_ID');
const leases = createSessionLeases({ redis, keys, owner: `child-${process.pid}`, timings: { leaseMs: Number(env('LEASE_MS')) } });
leases.onLost((id, reason) => say({ event: 'lost', sessionId: id, reason }));

const epoch = await leases.acquire(sessionId);
if (epoch === undefined) {
  say({ event: 'busy' });
  process.exit(1);
}
const session = await createRedisAuthStore(redis, keys).open(sessionId, epoch);
session.state.creds.me = { id: '4915100000001:7@s.whatsapp.net' };
await session.saveCreds();
say({ event: 'ready', epoch });

let n = 0;
setInterval(() => {
  n += 1;
  const write = n;
  const issuedAt = Date.now();
  Promise.resolve(session.state.keys.set({ session: { [`child-${write}.0`]: Buffer.from(`write ${write}`) } })).then(
    () => say({ event: 'write', n: write, issuedAt, ok: true }),
    (error: unknown) => say({ event: 'write', n: write, issuedAt, ok: false, code: isClusterError(error) ? error.code : String(error) }),
  );
}, 50);
