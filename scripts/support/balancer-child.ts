/**
 * A child process standing for one daemon of a cluster (test/cluster-takeover.test.ts, the
 * takeover of `pnpm bench:cluster`): it runs the session balancer over the leases and the
 * membership, and reports every session it starts or stops as a JSON line on stdout (a
 * session "runs" between the two). SIGTERM is a graceful stop (hand everything over, then
 * exit 0).
 * Environment: REDIS_URL, KEY_PREFIX, DAEMON_ID, SESSIONS (comma-separated), LEASE_MS.
 */
import {
  createDaemonMembership,
  createRedisConnection,
  createRedisKeys,
  createSessionBalancer,
  createSessionLeases,
  membershipTtlMs,
} from '@stickerbot/daemon';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const say = (line: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ ...line, daemon: env('DAEMON_ID'), at: Date.now() })}\n`);

const keys = createRedisKeys(env('KEY_PREFIX'));
const redis = createRedisConnection(env('REDIS_URL'));
const subscriber = createRedisConnection(env('REDIS_URL'));
const sessions = env('SESSIONS').split(',');
const leases = createSessionLeases({ redis, keys, owner: `${env('DAEMON_ID')}-${process.pid}`, timings: { leaseMs: Number(env('LEASE_MS')) } });
const balancer = createSessionBalancer({
  leases,
  membership: createDaemonMembership({ redis, keys, daemonId: env('DAEMON_ID'), ttlMs: membershipTtlMs(leases.timings.renewEveryMs, leases.timings.leaseMs) }),
  keys,
  redis,
  subscriber,
  sessions: () => Promise.resolve(sessions),
  isIdle: () => true,
  startSession: (sessionId, epoch) => Promise.resolve(say({ event: 'start', sessionId, epoch })),
  stopSession: (sessionId, reason) => Promise.resolve(say({ event: 'stop', sessionId, reason })),
});
process.once('SIGTERM', () => {
  void balancer.stop().then(() => {
    say({ event: 'stopped' });
    redis.disconnect();
    process.exit(0);
  });
});
await balancer.start();
say({ event: 'started' });
