import { StickerbotError } from '@stickerbot/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventually } from '../../test/bridge-harness.js';
import { useClusterRedis } from '../../test/cluster-harness.js';
import { commandArgsHash } from '../bridge/command-args-hash.js';
import { createCommandExecutor, type CommandSpec } from '../bridge/command-executor.js';
import { createRedisCommandLog } from './redis-command-log.js';
import { createRedisConnection } from './redis-connection.js';
import { createRedisKeys } from './redis-keys.js';
import { createSessionLeases } from './session-lease.js';

const cluster = useClusterRedis();
const keys = createRedisKeys('test-commands:');
const HOUR = 3_600_000;

const sendArgs = z.object({ id: z.string(), sessionId: z.string(), text: z.string() });
const sendResult = z.object({ messageId: z.string() });

function sendSpec(run: () => Promise<{ messageId: string }> | { messageId: string }): CommandSpec<typeof sendArgs, typeof sendResult> {
  return { op: 'message:send', args: sendArgs, result: sendResult, record: true, run };
}

/** Two daemons' logs (and executors) on one Redis. */
function twoDaemons(options: { claimTtlMs?: number } = {}) {
  const logs = ['d1', 'd2'].map((holder) => createRedisCommandLog({ redis: cluster.connect(), keys, holder, maxAgeMs: HOUR, ...options }));
  const executors = logs.map((commandLog) => createCommandExecutor({ commandLog, logger: pino({ level: 'silent' }) }));
  return { logs, executors };
}

describe('Redis command log', () => {
  it('keeps an outcome with its arguments hash and binary result for every daemon, and only the first outcome', async () => {
    const { logs } = twoDaemons();
    const [a, b] = logs as [ReturnType<typeof createRedisCommandLog>, ReturnType<typeof createRedisCommandLog>];
    const result = { ok: true as const, result: { data: Buffer.from([1, 2, 3]), mimetype: 'image/webp' } };
    expect(await b.has('r1')).toBe(false);
    await a.record({ id: 'r1', op: 'media:download', sessionId: 'shop', argsHash: 'h1', result, createdAt: Date.now() });
    await b.record({ id: 'r1', op: 'media:download', sessionId: 'shop', argsHash: 'h2', result: { ok: true, result: 'late' } });
    const stored = await b.get('r1');
    expect(stored).toMatchObject({ id: 'r1', op: 'media:download', sessionId: 'shop', argsHash: 'h1' });
    expect(Buffer.isBuffer((stored?.result as typeof result).result.data)).toBe(true);
    expect(stored?.result).toEqual(result);
    expect(await b.has('r1')).toBe(true);
  });

  it('forgets an outcome once it is older than the idempotency window', async () => {
    const log = createRedisCommandLog({ redis: cluster.connect(), keys, holder: 'd1', maxAgeMs: 300 });
    await log.record({ id: 'short', op: 'message:send', result: { ok: true, result: {} }, createdAt: Date.now() });
    await log.record({ id: 'stale', op: 'message:send', result: { ok: true, result: {} }, createdAt: Date.now() - 1_000 });
    expect(await log.has('short')).toBe(true);
    expect(await log.has('stale')).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await log.get('short')).toBeUndefined();
  });

  it('gives one command id to one daemon at a time: the other sees the claim, then the outcome', async () => {
    const { logs } = twoDaemons();
    const [a, b] = logs as [ReturnType<typeof createRedisCommandLog>, ReturnType<typeof createRedisCommandLog>];
    const first = { op: 'message:send', argsHash: 'h', sessionId: 'shop' };
    const claims = await Promise.all([a.claim('c1', first), b.claim('c1', first)]);
    expect(claims.map((claim) => claim.state).sort()).toEqual(['claimed', 'running']);
    const [winner, loser] = claims[0].state === 'claimed' ? [a, b] : [b, a];
    expect(await loser.claim('c1', first)).toEqual({ state: 'running', holder: winner === a ? 'd1' : 'd2', op: 'message:send', argsHash: 'h' });
    // The loser cannot drop the winner's claim; the winner can, and then the id is free.
    await loser.release('c1');
    expect((await loser.claim('c1', first)).state).toBe('running');
    await winner.release('c1');
    expect((await loser.claim('c1', first)).state).toBe('claimed');
    await loser.record({ id: 'c1', op: 'message:send', argsHash: 'h', result: { ok: true, result: { messageId: 'm' } } });
    expect(await winner.claim('c1', first)).toMatchObject({ state: 'recorded', record: { op: 'message:send', argsHash: 'h', result: { ok: true } } });
  });

  it('lets a claim of a daemon that died lapse after its time', async () => {
    const { logs } = twoDaemons({ claimTtlMs: 200 });
    const [a, b] = logs as [ReturnType<typeof createRedisCommandLog>, ReturnType<typeof createRedisCommandLog>];
    expect((await a.claim('lapse', { op: 'message:send', argsHash: 'h' })).state).toBe('claimed');
    expect((await b.claim('lapse', { op: 'message:send', argsHash: 'h' })).state).toBe('running');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await b.claim('lapse', { op: 'message:send', argsHash: 'h' })).state).toBe('claimed');
  });
});

describe('Redis command log across an owner change', () => {
  it("lets the session's new owner take the claim of the old one at once, also with other arguments, and only then", async () => {
    const { logs, executors } = twoDaemons();
    const [a, b] = logs as [ReturnType<typeof createRedisCommandLog>, ReturnType<typeof createRedisCommandLog>];
    const leases = ['d1', 'd2'].map((owner) => createSessionLeases({ redis: cluster.connect(), keys, owner, timings: { leaseMs: 300 } }));
    const [first, second] = leases as [ReturnType<typeof createSessionLeases>, ReturnType<typeof createSessionLeases>];
    try {
      const epoch = await first.acquire('owned');
      expect(epoch).toBeGreaterThan(0);
      expect((await a.claim('t1', { op: 'message:send', argsHash: 'h', sessionId: 'owned' })).state).toBe('claimed');
      const firstRun = { id: 't2', sessionId: 'owned', text: 'first run' };
      expect((await a.claim('t2', { op: 'message:send', argsHash: commandArgsHash(firstRun), sessionId: 'owned' })).state).toBe('claimed');
      // d1 still holds the session: its claim stands, whatever the arguments.
      expect(await b.claim('t1', { op: 'message:send', argsHash: 'other', sessionId: 'owned' })).toMatchObject({ state: 'running', holder: 'd1' });

      // d1 dies; once its lease ran out, d2 holds the session under a newer epoch.
      first.halt();
      const newer = await eventually(() => second.acquire('owned'), (held) => held !== undefined, "d2's lease of the session");
      expect(newer).toBeGreaterThan(epoch ?? 0);
      expect(await b.claim('t1', { op: 'message:send', argsHash: 'other', sessionId: 'owned' })).toEqual({ state: 'claimed', takenFrom: { holder: 'd1', epoch } });
      // The taken claim is d2's now, under its epoch: d1 back with an old claim in mind cannot take it back.
      expect(await a.claim('t1', { op: 'message:send', argsHash: 'h', sessionId: 'owned' })).toMatchObject({ state: 'running', holder: 'd2', argsHash: 'other' });

      // A claim made while nobody held the session's lease has no epoch to compare: it stands until it expires.
      expect((await a.claim('t3', { op: 'message:send', argsHash: 'h', sessionId: 'unleased' })).state).toBe('claimed');
      expect(await second.acquire('unleased')).toBeGreaterThan(0);
      expect(await b.claim('t3', { op: 'message:send', argsHash: 'h', sessionId: 'unleased' })).toMatchObject({ state: 'running', holder: 'd1' });

      // Through d2's executor: a send with other arguments than the dead owner's claim runs instead of being refused.
      const [, two] = executors as [ReturnType<typeof createCommandExecutor>, ReturnType<typeof createCommandExecutor>];
      expect(await two.execute(sendSpec(() => ({ messageId: 'resent' })), { id: 't2', sessionId: 'owned', text: 'second run' }, undefined)).toEqual({ ok: true, result: { messageId: 'resent' } });
    } finally {
      await Promise.all(leases.map((lease) => lease.close()));
    }
  });
});

describe('command executors of two daemons sharing the Redis command log', () => {
  it('runs a command id once across daemons, answers the repeat at the other from the log, and refuses other arguments', async () => {
    const { executors } = twoDaemons();
    const [one, two] = executors as [ReturnType<typeof createCommandExecutor>, ReturnType<typeof createCommandExecutor>];
    let runs = 0;
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const spec = sendSpec(async () => {
      runs++;
      await gate;
      return { messageId: `m${runs}` };
    });
    const args = { id: 'x1', sessionId: 'shop', text: 'hi' };
    const first = one.execute(spec, args, undefined);
    const probe = cluster.connect();
    await eventually(() => probe.hget(keys.command('x1'), 'state'), (state) => state === 'running', 'the claim of x1');
    // Meanwhile at the other daemon: the same command is running elsewhere (retry later), another one is refused.
    expect(await two.execute(spec, args, undefined)).toMatchObject({ ok: false, error: { code: 'TIMEOUT', retryable: true } });
    expect(await two.execute(spec, { ...args, text: 'other' }, undefined)).toMatchObject({ ok: false, error: { code: 'IDEMPOTENCY_CONFLICT' } });
    finish();
    expect(await first).toEqual({ ok: true, result: { messageId: 'm1' } });
    expect(await two.execute(spec, args, undefined)).toEqual({ ok: true, result: { messageId: 'm1' } });
    expect(await two.execute(spec, { ...args, text: 'other' }, undefined)).toMatchObject({ ok: false, error: { code: 'IDEMPOTENCY_CONFLICT', retryable: false } });
    expect(runs).toBe(1);
  });

  it('releases the claim of a retryable failure, so that the retry runs on another daemon', async () => {
    const { executors, logs } = twoDaemons();
    const [one, two] = executors as [ReturnType<typeof createCommandExecutor>, ReturnType<typeof createCommandExecutor>];
    const flaky = sendSpec(() => {
      throw new StickerbotError('SESSION_NOT_CONNECTED');
    });
    const args = { id: 'x2', sessionId: 'shop', text: 'hi' };
    expect(await one.execute(flaky, args, undefined)).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_CONNECTED' } });
    expect(await logs[1]?.has('x2')).toBe(false);
    expect(await two.execute(sendSpec(() => ({ messageId: 'second-try' })), args, undefined)).toEqual({ ok: true, result: { messageId: 'second-try' } });
    expect(await logs[0]?.get('x2')).toMatchObject({ argsHash: commandArgsHash(args), result: { ok: true, result: { messageId: 'second-try' } } });
  });

  it('answers a retryable INTERNAL when Redis does not answer, and does not run the command', async () => {
    // Nothing listens on port 1: every command fails after its timeout.
    const unreachable = createRedisConnection('redis://127.0.0.1:1', { commandTimeoutMs: 300, connectTimeoutMs: 300 });
    cluster.afterTest(() => unreachable.disconnect());
    const log = createRedisCommandLog({ redis: unreachable, keys, holder: 'd1', maxAgeMs: HOUR });
    const executor = createCommandExecutor({ commandLog: log, logger: pino({ level: 'silent' }) });
    let runs = 0;
    const spec = sendSpec(() => ({ messageId: `m${++runs}` }));
    expect(await executor.execute(spec, { id: 'x3', sessionId: 's', text: 't' }, undefined)).toMatchObject({
      ok: false,
      error: { code: 'INTERNAL', retryable: true },
    });
    expect(runs).toBe(0);
  });
});
