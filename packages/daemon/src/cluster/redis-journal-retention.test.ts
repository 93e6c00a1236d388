import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { chats, startClusterRedis, textEvent } from '../../test/cluster-harness.js';
import { openRedisJournal } from './redis-journal.js';
import { createRedisJournalRetention } from './redis-journal-retention.js';

const logger = pino({ level: 'silent' });

describe('createRedisJournalRetention', () => {
  it('trims in chunks everything no group needs, and reports full while a group lags past the bound', async () => {
    await using env = await startClusterRedis();
    const journal = await openRedisJournal({ redis: env.redis, partitions: 4 });
    await journal.ensureGroup('bot', 'end');
    const some = chats(8);
    await journal.appendMany(Array.from({ length: 40 }, (_, i) => ({ sessionId: 'default', event: textEvent(`m${i}`, some[i % 8] as string), ts: 1 })));
    // The group was registered before the appends and read nothing: all 40 are its need.
    const policy = { maxAgeMs: 0, maxCount: 0, maxUnacknowledged: 30 };
    const retention = createRedisJournalRetention({ journal, policy, intervalMs: 60_000, logger, chunkSize: 7, now: () => 10 });
    let status = await retention.runOnce();
    expect(status).toMatchObject({ ok: false, full: true, unacknowledged: 40, lastPrunedAt: 10 });
    expect(await journal.count()).toBe(40);

    // Registered again from the end, the group needs none of them: the pass goes on in chunks of 7 until none is left.
    await journal.removeGroup('bot');
    await journal.ensureGroup('bot', 'end');
    status = await retention.runOnce();
    expect(status).toMatchObject({ ok: true, full: false, unacknowledged: 0 });
    expect(await journal.count()).toBe(0);
    expect(retention.status()).toBe(status);
  });

  it('reports a failed pass (Redis gone) without throwing, and recovers on the next', async () => {
    await using env = await startClusterRedis();
    const journal = await openRedisJournal({ redis: env.redis });
    const retention = createRedisJournalRetention({ journal, policy: { maxAgeMs: 0, maxCount: 0, maxUnacknowledged: 10 }, intervalMs: 60_000, logger });
    expect((await retention.runOnce()).ok).toBe(true);
    await env.server.kill();
    const failed = await retention.runOnce();
    expect(failed.ok).toBe(false);
    expect(failed.lastError).toBeTruthy();
    await env.server.restart();
    expect((await retention.runOnce()).ok).toBe(true);
  });
});
