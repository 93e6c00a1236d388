/**
 * The send path as the bridge runs it, without the sockets: the worker command table
 * (media cap) → the command executor (idempotency) → the session registry and its
 * outbound queue (persist, send, record) over a real SQLite file and the fake WhatsApp.
 * Each concern has one owner; these tests hold the behaviour that comes from their
 * working together: a repeat is answered once, from the one record.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Result, WorkerCommandArgs, WorkerCommandResult } from '@stickerbot/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCommandExecutor, type CommandExecutor } from '../src/bridge/command-executor.js';
import { createWorkerCommandTable, type WorkerCommandTable } from '../src/bridge/worker-commands.js';
import type { SessionRegistry } from '../src/session-registry.js';
import { messageIdFor } from '../src/sessions/outbound-queue.js';
import { createSessionRegistry, type SessionRegistryDeps } from '../src/sessions/registry.js';
import { openStorage, type Storage } from '../src/storage/index.js';
import { createFakeWa, FakeBoom, type FakeWa } from '../src/test-kit/index.js';

const logger = pino({ level: 'silent' });
const ALICE = '4915100000001@s.whatsapp.net';
const CAP = 1024;

type SendArgs = WorkerCommandArgs<'message:send'>;
type SendResult = Result<WorkerCommandResult<'message:send'>>;

let dir: string;
let storage: Storage;
let wa: FakeWa;
const registries: SessionRegistry[] = [];

interface Daemon {
  registry: SessionRegistry;
  executor: CommandExecutor;
  commands: WorkerCommandTable;
  send(args: SendArgs): Promise<SendResult>;
}

/** What `createDaemon` composes for a send, over the current storage. */
function compose(overrides: Partial<SessionRegistryDeps> = {}): Daemon {
  const registry = createSessionRegistry({ storage, socketFactory: wa.factory, maxMediaBytes: CAP, logger, random: () => 0, ...overrides });
  registries.push(registry);
  const executor = createCommandExecutor({ commandLog: storage.commands, outbox: storage.outbox, logger });
  const commands = createWorkerCommandTable({ registry, maxMediaBytes: CAP, startedAt: 0, now: Date.now });
  return { registry, executor, commands, send: (args) => executor.execute(commands['message:send'], args, undefined) };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await vi.advanceTimersByTimeAsync(0);
}

async function connected(overrides: Partial<SessionRegistryDeps> = {}): Promise<Daemon> {
  const daemon = compose(overrides);
  await daemon.registry.create('default');
  await settle();
  wa.session('default').open({ jid: '15550000001' });
  expect(daemon.registry.get('default')?.status).toBe('CONNECTED');
  return daemon;
}

function text(id: string, body: string): SendArgs {
  return { id, sessionId: 'default', chat: ALICE, content: { type: 'text', text: body } };
}

/** Counts the outcomes written to the command log, whoever writes them. */
function countRecords(): () => number {
  const record = storage.commands.record.bind(storage.commands);
  let count = 0;
  storage.commands.record = (input) => {
    count += 1;
    record(input);
  };
  return () => count;
}

beforeEach(() => {
  vi.useFakeTimers();
  dir = mkdtempSync(join(tmpdir(), 'stickerbot-send-path-'));
  storage = openStorage(dir);
  wa = createFakeWa();
});

afterEach(async () => {
  for (const registry of registries.splice(0)) await registry.stopAll();
  vi.useRealTimers();
  storage.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('send path', () => {
  it('records a send once, in the queue, and answers a repeat from that record without sending again', async () => {
    const daemon = await connected();
    const records = countRecords();
    const args = text('once', 'hello');
    const first = await daemon.send(args);
    expect(first).toEqual({ ok: true, result: { messageId: messageIdFor('default', 'once'), timestamp: expect.any(Number) as number } });
    expect(records()).toBe(1);
    expect(await daemon.send(args)).toEqual(first);
    expect(await daemon.send({ ...args, content: { type: 'text', text: 'other' } })).toMatchObject({ ok: false, error: { code: 'IDEMPOTENCY_CONFLICT' } });
    expect(records()).toBe(1);
    expect(wa.session('default').sent).toHaveLength(1);
  });

  it('records a send WhatsApp refused once, and a repeat gets the same refusal without sending', async () => {
    const daemon = await connected();
    const records = countRecords();
    wa.session('default').failNextSend(new FakeBoom('not-acceptable', 406));
    const refused = await daemon.send(text('refused', 'x'));
    expect(refused).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', retryable: false } });
    expect(await daemon.send(text('refused', 'x'))).toEqual(refused);
    expect(records()).toBe(1);
    expect(wa.session('default').sent).toHaveLength(0);
  });

  it('refuses media over the cap at the edge with MEDIA_TOO_LARGE: nothing queued, the refusal recorded for a repeat', async () => {
    const daemon = await connected();
    const big: SendArgs = { id: 'big', sessionId: 'default', chat: ALICE, content: { type: 'sticker', data: new Uint8Array(CAP + 1) } };
    const refused = await daemon.send(big);
    expect(refused).toMatchObject({ ok: false, error: { code: 'MEDIA_TOO_LARGE', retryable: false } });
    expect(!refused.ok && refused.error.message).toBe(`sticker of ${CAP + 1} bytes is over the ${CAP}-byte cap`);
    expect(storage.outbox.size()).toBe(0);
    expect(storage.commands.get('big')?.result).toEqual(refused);
    expect(await daemon.send(big)).toEqual(refused);
    const smaller = { ...big, content: { type: 'sticker' as const, data: new Uint8Array(CAP) } };
    expect(await daemon.send(smaller)).toMatchObject({ ok: false, error: { code: 'IDEMPOTENCY_CONFLICT' } });
    expect(wa.session('default').sent).toHaveLength(0);
  });

  it('lets a caller that stopped waiting (TIMEOUT) rejoin its queued send with the same id, and refuses other arguments', async () => {
    const daemon = await connected({ sendWaitMs: 5_000 });
    wa.session('default').hangNextSend();
    const args = text('slow', 'eventually');
    const first = daemon.send(args);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await first).toMatchObject({ ok: false, error: { code: 'TIMEOUT', retryable: true } });
    expect(storage.outbox.find('slow')).toBeDefined();
    expect(await daemon.send(text('slow', 'changed'))).toMatchObject({ ok: false, error: { code: 'IDEMPOTENCY_CONFLICT' } });
    // The hung attempt times out at 30 s and is retried 2 s later, under the same message id.
    await vi.advanceTimersByTimeAsync(24_000);
    const again = daemon.send(args);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(await again).toMatchObject({ ok: true, result: { messageId: messageIdFor('default', 'slow') } });
    expect(wa.session('default').sent).toHaveLength(1);
  });

  it('after a restart, refuses a queued id with other arguments and joins it with the same ones (the outbox keeps the hash)', async () => {
    const before = await connected();
    wa.session('default').hangNextSend();
    const sticker = (fill: number): SendArgs => ({ id: 'queued', sessionId: 'default', chat: ALICE, content: { type: 'sticker', data: new Uint8Array(64).fill(fill) } });
    const pending = before.send(sticker(1));
    await settle();
    await before.registry.stopAll();
    expect(await pending).toMatchObject({ ok: false, error: { code: 'SHUTTING_DOWN' } });
    storage.close();

    storage = openStorage(dir);
    const after = compose();
    expect(await after.send(sticker(2))).toMatchObject({ ok: false, error: { code: 'IDEMPOTENCY_CONFLICT' } });
    const joined = after.send(sticker(1));
    await after.registry.startAll([]);
    await settle();
    const [delivered] = await wa.session('default').waitForSent(1);
    expect(await joined).toMatchObject({ ok: true, result: { messageId: delivered?.message.key.id } });
    expect(storage.outbox.size()).toBe(0);
    expect(wa.session('default').sent).toHaveLength(1);
  });

  it('fails a send quoting a journaled message whose row no longer decodes with INTERNAL, once', async () => {
    const daemon = await connected();
    const incoming = wa.session('default').receiveText({ from: '4915100000001', text: '!sticker' });
    const quotedId = incoming.key.id ?? '';
    storage.db.prepare('UPDATE journal SET raw = ? WHERE message_id = ?').run('{"key":', quotedId);
    const records = countRecords();
    const result = await daemon.send({ ...text('quoting', 'here'), quotedId });
    expect(result).toMatchObject({ ok: false, error: { code: 'INTERNAL', retryable: false } });
    expect(!result.ok && result.error.message).toContain(quotedId);
    expect(records()).toBe(1);
    expect(wa.session('default').sent).toHaveLength(0);
  });
});
