import { StickerbotError } from '@stickerbot/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commandArgsHash } from './command-args-hash.js';
import { createCommandExecutor, type CommandSpec } from './command-executor.js';
import type { CommandClaim, CommandLog, CommandRecord } from '../storage/index.js';

/** An in-memory double of the CommandLog contract. */
function memoryCommandLog(): CommandLog & { records: Map<string, CommandRecord> } {
  const records = new Map<string, CommandRecord>();
  return {
    records,
    get: (id) => records.get(id),
    has: (id) => records.has(id),
    record: (record) => void records.set(record.id, { ...record, createdAt: record.createdAt ?? Date.now() }),
    prune: () => 0,
  };
}

function setup() {
  const commandLog = memoryCommandLog();
  const observed: Array<[string, string]> = [];
  const executor = createCommandExecutor({
    commandLog,
    logger: pino({ level: 'silent' }),
    metrics: { observeCommand: (op, outcome) => void observed.push([op, outcome]) },
  });
  return { commandLog, observed, executor };
}

const sendArgs = z.object({ id: z.string(), sessionId: z.string(), text: z.string() });
const sendResult = z.object({ messageId: z.string() });
type SendSpec = CommandSpec<typeof sendArgs, typeof sendResult>;

function sendSpec(run: (args: z.infer<typeof sendArgs>, context: void, argsHash: string) => { messageId: string } | Promise<{ messageId: string }>): SendSpec {
  return { op: 'test:send', args: sendArgs, result: sendResult, record: true, run };
}

describe('createCommandExecutor', () => {
  it('observes and logs a command refused before it could run, and refuses everything with SHUTTING_DOWN once closing', async () => {
    const { executor, observed } = setup();
    const refused = executor.refuse('test:send', new StickerbotError('INVALID_ARGS', 'test:send: text is required'));
    expect(refused).toEqual({ ok: false, error: { code: 'INVALID_ARGS', message: 'test:send: text is required', retryable: false } });
    await executor.close(0);
    expect(executor.refuse('test:send', new StickerbotError('INVALID_ARGS'))).toMatchObject({ ok: false, error: { code: 'SHUTTING_DOWN' } });
    expect(observed).toEqual([
      ['test:send', 'INVALID_ARGS'],
      ['test:send', 'SHUTTING_DOWN'],
    ]);
  });

  it('returns the recorded result for a repeated id without acting again', async () => {
    const { executor, commandLog, observed } = setup();
    let runs = 0;
    const spec = sendSpec(() => ({ messageId: `m${++runs}` }));
    const first = await executor.execute(spec, { id: 'c1', sessionId: 's', text: 'hi' }, undefined);
    const second = await executor.execute(spec, { id: 'c1', sessionId: 's', text: 'hi' }, undefined);
    expect(first).toEqual({ ok: true, result: { messageId: 'm1' } });
    expect(second).toEqual(first);
    expect(runs).toBe(1);
    expect(commandLog.records.get('c1')).toMatchObject({ op: 'test:send', sessionId: 's' });
    expect(observed.map(([, outcome]) => outcome)).toEqual(['ok', 'replayed']);
  });

  it("with a shared log: answers TIMEOUT for an id another daemon is running, refuses other arguments, and releases its own claim after a retryable failure", async () => {
    const commandLog = memoryCommandLog();
    const args = { id: 'c9', sessionId: 's', text: 'hi' };
    const claims = new Map<string, CommandClaim>([['c9', { state: 'running', holder: 'd2', op: 'test:send', argsHash: commandArgsHash(args) }]]);
    const released: string[] = [];
    const executor = createCommandExecutor({
      commandLog: { ...commandLog, claim: (id) => Promise.resolve(claims.get(id) ?? { state: 'claimed' }), release: (id) => Promise.resolve(void released.push(id)) },
      logger: pino({ level: 'silent' }),
    });
    let runs = 0;
    const spec = sendSpec(() => ({ messageId: `m${++runs}` }));
    expect(await executor.execute(spec, args, undefined)).toMatchObject({ ok: false, error: { code: 'TIMEOUT', retryable: true } });
    expect(await executor.execute(spec, { ...args, text: 'other' }, undefined)).toMatchObject({ ok: false, error: { code: 'IDEMPOTENCY_CONFLICT' } });
    expect(runs).toBe(0);

    const failing = sendSpec(() => {
      throw new StickerbotError('SESSION_NOT_CONNECTED', 'not yet', { retryable: true });
    });
    expect(await executor.execute(failing, { id: 'c10', sessionId: 's', text: 'hi' }, undefined)).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_CONNECTED' } });
    expect(released).toEqual(['c10']);
  });

  it('answers a recorded id from a previous daemon life (the log survives restarts)', async () => {
    const { executor, commandLog } = setup();
    const args = { id: 'old', sessionId: 's', text: 'x' };
    commandLog.record({ id: 'old', op: 'test:send', argsHash: commandArgsHash(args), result: { ok: true, result: { messageId: 'before-restart' } } });
    let runs = 0;
    const result = await executor.execute(sendSpec(() => ({ messageId: `m${++runs}` })), args, undefined);
    expect(result).toEqual({ ok: true, result: { messageId: 'before-restart' } });
    expect(runs).toBe(0);
  });

  it('refuses a repeated id with other arguments with IDEMPOTENCY_CONFLICT, without acting or touching the record', async () => {
    const { executor, commandLog, observed } = setup();
    let runs = 0;
    const spec = sendSpec(() => ({ messageId: `m${++runs}` }));
    const first = await executor.execute(spec, { id: 'c1', sessionId: 's', text: 'hi' }, undefined);
    const recorded = commandLog.records.get('c1');
    const other = await executor.execute(spec, { id: 'c1', sessionId: 's', text: 'something else' }, undefined);
    expect(other).toMatchObject({ ok: false, error: { code: 'IDEMPOTENCY_CONFLICT', retryable: false } });
    expect(!other.ok && other.error.message).toContain('c1');
    expect(runs).toBe(1);
    expect(commandLog.records.get('c1')).toEqual(recorded);
    expect(await executor.execute(spec, { id: 'c1', sessionId: 's', text: 'hi' }, undefined)).toEqual(first);
    expect(observed.map(([, outcome]) => outcome)).toEqual(['ok', 'IDEMPOTENCY_CONFLICT', 'replayed']);
  });

  it('refuses a repeated id with other arguments while the first is still in flight', async () => {
    const { executor } = setup();
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const spec = sendSpec(async () => {
      runs++;
      await gate;
      return { messageId: 'first' };
    });
    const first = executor.execute(spec, { id: 'busy', sessionId: 's', text: 'a' }, undefined);
    const other = await executor.execute(spec, { id: 'busy', sessionId: 'other-session', text: 'a' }, undefined);
    expect(other).toMatchObject({ ok: false, error: { code: 'IDEMPOTENCY_CONFLICT' } });
    release();
    expect(await first).toEqual({ ok: true, result: { messageId: 'first' } });
    expect(runs).toBe(1);
  });

  it('checks a repeated id against a send still queued in the outbox: other arguments are refused, the same ones run on to join it', async () => {
    const commandLog = memoryCommandLog();
    const queuedArgs = { id: 'q', sessionId: 's', text: 'queued' };
    const executor = createCommandExecutor({
      commandLog,
      outbox: { find: (id) => (id === 'q' ? { op: 'message:send', argsHash: commandArgsHash(queuedArgs) } : undefined) },
      logger: pino({ level: 'silent' }),
    });
    const hashes: string[] = [];
    const spec: SendSpec = { ...sendSpec((_args, _context, argsHash) => (hashes.push(argsHash), { messageId: 'joined' })), op: 'message:send' };
    expect(await executor.execute(spec, { ...queuedArgs, text: 'other' }, undefined)).toMatchObject({ ok: false, error: { code: 'IDEMPOTENCY_CONFLICT' } });
    expect(hashes).toEqual([]);
    expect(await executor.execute(spec, queuedArgs, undefined)).toEqual({ ok: true, result: { messageId: 'joined' } });
    // The handler gets the hash the executor computed, to keep with the queued send.
    expect(hashes).toEqual([commandArgsHash(queuedArgs)]);
    const readSpec: SendSpec = { ...spec, op: 'message:read' };
    expect(await executor.execute(readSpec, { id: 'q2', sessionId: 's', text: 'x' }, undefined)).toMatchObject({ ok: true });
  });

  it('leaves an outcome the handler recorded itself alone (a send the outbox completed)', async () => {
    const { executor, commandLog } = setup();
    const args = { id: 'self', sessionId: 's', text: 'x' };
    const spec = sendSpec((_args, _context, argsHash) => {
      commandLog.record({ id: 'self', op: 'test:send', argsHash, result: { ok: true, result: { messageId: 'by-the-queue' } }, createdAt: 1 });
      return { messageId: 'by-the-queue' };
    });
    expect(await executor.execute(spec, args, undefined)).toEqual({ ok: true, result: { messageId: 'by-the-queue' } });
    expect(commandLog.records.get('self')?.createdAt).toBe(1);
  });

  it('treats a record without an arguments hash (written before migration 004) as matching', async () => {
    const { executor, commandLog } = setup();
    commandLog.records.set('legacy', { id: 'legacy', op: 'test:send', result: { ok: true, result: { messageId: 'old' } }, createdAt: 1 });
    let runs = 0;
    const result = await executor.execute(sendSpec(() => ({ messageId: `m${++runs}` })), { id: 'legacy', sessionId: 's', text: 'any' }, undefined);
    expect(result).toEqual({ ok: true, result: { messageId: 'old' } });
    expect(runs).toBe(0);
  });

  it('shares one run between concurrent commands with the same id', async () => {
    const { executor } = setup();
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const spec = sendSpec(async () => {
      runs++;
      await gate;
      return { messageId: 'once' };
    });
    const both = Promise.all([
      executor.execute(spec, { id: 'same', sessionId: 's', text: 'x' }, undefined),
      executor.execute(spec, { id: 'same', sessionId: 's', text: 'x' }, undefined),
    ]);
    expect(executor.inFlight).toBe(1);
    release();
    const [a, b] = await both;
    expect(a).toEqual({ ok: true, result: { messageId: 'once' } });
    expect(b).toEqual(a);
    expect(runs).toBe(1);
  });

  it('does not record retryable failures, so a retry with the same id acts', async () => {
    const { executor, commandLog } = setup();
    let runs = 0;
    const spec = sendSpec(() => {
      runs++;
      if (runs === 1) throw new StickerbotError('SESSION_NOT_CONNECTED');
      return { messageId: 'second-try' };
    });
    const first = await executor.execute(spec, { id: 'r', sessionId: 's', text: 'x' }, undefined);
    expect(first).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_CONNECTED', retryable: true } });
    expect(commandLog.records.has('r')).toBe(false);
    const second = await executor.execute(spec, { id: 'r', sessionId: 's', text: 'x' }, undefined);
    expect(second).toEqual({ ok: true, result: { messageId: 'second-try' } });
    expect(runs).toBe(2);
  });

  it('records non-retryable failures, so a repeat gets the same refusal', async () => {
    const { executor } = setup();
    let runs = 0;
    const spec = sendSpec(() => {
      runs++;
      throw new StickerbotError('MESSAGE_NOT_FOUND', 'no message q1');
    });
    await executor.execute(spec, { id: 'n', sessionId: 's', text: 'x' }, undefined);
    const again = await executor.execute(spec, { id: 'n', sessionId: 's', text: 'x' }, undefined);
    expect(again).toEqual({ ok: false, error: { code: 'MESSAGE_NOT_FOUND', message: 'no message q1', retryable: false } });
    expect(runs).toBe(1);
  });

  it('repeats commands that are not recorded (reads)', async () => {
    const { executor, commandLog } = setup();
    let runs = 0;
    const spec: CommandSpec<z.ZodObject<{ id: z.ZodString }>, z.ZodNumber> = { op: 'test:read', args: z.object({ id: z.string() }), record: false, run: () => ++runs };
    await executor.execute(spec, { id: 'q' }, undefined);
    expect(await executor.execute(spec, { id: 'q' }, undefined)).toEqual({ ok: true, result: 2 });
    expect(commandLog.records.size).toBe(0);
  });

  it('refuses an id already used by another command', async () => {
    const { executor } = setup();
    await executor.execute(sendSpec(() => ({ messageId: 'm' })), { id: 'dup', sessionId: 's', text: 'x' }, undefined);
    const other: SendSpec = {
      ...sendSpec(() => ({ messageId: 'other' })),
      op: 'test:other',
    };
    const result = await executor.execute(other, { id: 'dup', sessionId: 's', text: 'x' }, undefined);
    expect(result).toMatchObject({ ok: false, error: { code: 'IDEMPOTENCY_CONFLICT' } });
    expect(!result.ok && result.error.message).toContain('test:send');
  });

  it('turns unexpected throws and invalid results into INTERNAL', async () => {
    const { executor } = setup();
    const thrown = await executor.execute(sendSpec(() => Promise.reject(new TypeError('boom'))), { id: 't1', sessionId: 's', text: 'x' }, undefined);
    expect(thrown).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'boom', retryable: false } });
    const invalid = await executor.execute(
      sendSpec(() => ({ messageId: 42 }) as unknown as { messageId: string }),
      { id: 't2', sessionId: 's', text: 'x' },
      undefined,
    );
    expect(invalid).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });

  it('passes the context to the command', async () => {
    const { executor } = setup();
    const spec: CommandSpec<z.ZodObject<{ n: z.ZodNumber }>, z.ZodString, { who: string }> = {
      op: 'test:ctx',
      args: z.object({ n: z.number() }),
      record: false,
      run: (args, context) => `${context.who}:${args.n}`,
    };
    expect(await executor.execute(spec, { n: 1 }, { who: 'admin' })).toEqual({ ok: true, result: 'admin:1' });
  });

  it('refuses new commands with SHUTTING_DOWN once closing, after letting the running ones finish', async () => {
    const { executor } = setup();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const spec = sendSpec(async () => {
      await gate;
      return { messageId: 'finished' };
    });
    const running = executor.execute(spec, { id: 'x1', sessionId: 's', text: 'x' }, undefined);
    const closed = executor.close(10_000);
    const refused = await executor.execute(spec, { id: 'x2', sessionId: 's', text: 'x' }, undefined);
    expect(refused).toMatchObject({ ok: false, error: { code: 'SHUTTING_DOWN', retryable: true } });
    release();
    await closed;
    expect(await running).toEqual({ ok: true, result: { messageId: 'finished' } });
    expect(executor.inFlight).toBe(0);
  });

  it('gives up waiting for commands in flight after the close timeout', async () => {
    const { executor } = setup();
    void executor.execute(sendSpec(() => new Promise(() => {})), { id: 'stuck', sessionId: 's', text: 'x' }, undefined);
    await executor.close(50);
    expect(executor.closing).toBe(true);
    expect(executor.inFlight).toBe(1);
  });

  it('answers what its route answers without running or recording the command, and runs it here when the route declines', async () => {
    const commandLog = memoryCommandLog();
    const routed: string[] = [];
    const executor = createCommandExecutor({
      commandLog,
      logger: pino({ level: 'silent' }),
      route: (op, args) => {
        const sessionId = (args as { sessionId: string }).sessionId;
        routed.push(`${op}:${sessionId}`);
        if (sessionId === 'here') return undefined;
        if (sessionId === 'nobody') return Promise.resolve(undefined);
        return Promise.resolve({ ok: true, result: { messageId: 'from-the-owner' } });
      },
    });
    let runs = 0;
    const spec = sendSpec(() => ({ messageId: `local-${++runs}` }));
    expect(await executor.execute(spec, { id: 'r1', sessionId: 'elsewhere', text: 'x' }, undefined)).toEqual({ ok: true, result: { messageId: 'from-the-owner' } });
    expect(commandLog.records.has('r1')).toBe(false);
    expect(await executor.execute(spec, { id: 'r2', sessionId: 'here', text: 'x' }, undefined)).toEqual({ ok: true, result: { messageId: 'local-1' } });
    expect(await executor.execute(spec, { id: 'r3', sessionId: 'nobody', text: 'x' }, undefined)).toEqual({ ok: true, result: { messageId: 'local-2' } });
    expect([...commandLog.records.keys()]).toEqual(['r2', 'r3']);
    expect(routed).toEqual(['test:send:elsewhere', 'test:send:here', 'test:send:nobody']);
  });
});
