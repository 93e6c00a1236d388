/**
 * Fencing across processes (issue 17): a child process holds a session's lease and keeps
 * writing its auth state; it is paused (SIGSTOP) past the lease, another holder takes the
 * session over and writes, and the child is resumed (SIGCONT). From then on every write of
 * the child is refused by Redis with `LEASE_FENCED`, nothing it sends lands, and it reports
 * the lease lost.
 */
import { createRedisAuthStore, createRedisConnection, createRedisKeys, createSessionLeases } from '@stickerbot/daemon';
import { describe, expect, it } from 'vitest';
import { until } from '../scripts/support/process-stack.js';
import { useClusterChildren } from './support/cluster-children.js';

const LEASE_MS = 1_000;
const keys = createRedisKeys('test-fencing:');
const cluster = useClusterChildren();

interface Line {
  event: 'ready' | 'write' | 'lost' | 'busy';
  epoch?: number;
  n?: number;
  issuedAt?: number;
  ok?: boolean;
  code?: string;
  reason?: string;
  at: number;
}

describe('lease fencing with a paused process', () => {
  it('refuses every auth write of a holder resumed after its session moved, and the holder reports the loss', async () => {
    const lines: Line[] = [];
    const child = cluster.spawn<Line>('lease-holder-child.ts', keys.prefix, { SESSION_ID: 'shop', LEASE_MS: String(LEASE_MS) }, (line) => lines.push(line));
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    await until(() => {
      if (child.exitCode !== null) throw new Error(`the child exited ${child.exitCode}: ${stderr}`);
      return lines.some((l) => l.event === 'write' && l.ok);
    }, 'the child to hold the lease and write', 30_000);
    const childEpoch = lines.find((l) => l.event === 'ready')?.epoch ?? 0;

    child.kill('SIGSTOP');
    const stoppedAt = Date.now();

    const redis = createRedisConnection(cluster.server.url);
    const leases = createSessionLeases({ redis, keys, owner: 'survivor', timings: { leaseMs: 5_000 } });
    let takenEpoch: number | undefined;
    while (takenEpoch === undefined) {
      takenEpoch = await leases.acquire('shop');
      if (takenEpoch === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
      if (Date.now() - stoppedAt > 10_000) throw new Error('the paused child kept the lease');
    }
    expect(takenEpoch).toBeGreaterThan(childEpoch);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(LEASE_MS - 400);
    const auth = createRedisAuthStore(redis, keys);
    const owner = await auth.open('shop', takenEpoch);
    owner.state.creds.me = { id: '4915100000001:9@s.whatsapp.net' };
    await owner.saveCreds();

    const resumedAt = Date.now();
    child.kill('SIGCONT');
    await until(() => lines.some((l) => l.event === 'lost') && lines.filter((l) => l.event === 'write' && (l.issuedAt ?? 0) >= resumedAt).length >= 3, 'the child to write after its resume', 10_000);

    const afterResume = lines.filter((l) => l.event === 'write' && (l.issuedAt ?? 0) >= resumedAt);
    expect(afterResume.every((l) => !l.ok && l.code === 'LEASE_FENCED'), JSON.stringify(afterResume)).toBe(true);
    expect(lines.find((l) => l.event === 'lost')).toMatchObject({ sessionId: 'shop' });
    // Nothing the child wrote after its pause reached Redis; the new owner's creds stand.
    const fields = await redis.hkeys(keys.session('shop').keys);
    const written = new Set(fields.map((f) => Number(/^session:child-(\d+)\.0$/.exec(f)?.[1] ?? 0)));
    expect(written.size).toBeGreaterThan(0);
    expect(afterResume.filter((l) => written.has(l.n ?? 0))).toEqual([]);
    expect((await auth.open('shop', takenEpoch)).state.creds.me?.id).toBe('4915100000001:9@s.whatsapp.net');
    await leases.close();
    redis.disconnect();
  });
});
