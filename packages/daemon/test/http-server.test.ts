/**
 * The HTTP server over real loopback Socket.IO with the real SQLite journal and command
 * log in a temp folder, and a hand-written double of the session registry contract.
 */
import { DASHBOARD_COMMAND_NAMES, PROTOCOL_VERSION, WORKER_COMMAND_NAMES, StickerbotError, type BotEvent, type Result } from '@stickerbot/protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { composeAuthenticators, createAdminTokenAuthenticator, type DashboardAuthenticator, type Principal } from '../src/bridge/auth.js';
import { createHttpServer, type HttpServer } from '../src/http-server.js';
import type { WorkerDelivery, WorkerDeliveryFactory } from '../src/bridge/worker-delivery.js';
import { createCommandExecutor } from '../src/bridge/command-executor.js';
import { openDatabase, type SqliteDatabase } from '../src/storage/sqlite-database.js';
import { createReadiness } from '../src/bridge/readiness.js';
import { createSqliteCommandLog } from '../src/storage/sqlite-command-log.js';
import { createSqliteJournal, type SqliteJournal } from '../src/storage/sqlite-journal.js';
import { Clients, collectEntries, connected, contiguous, next, refusal, until } from './bridge-harness.js';
import { RegistryDouble } from './registry-double.js';

const TOKEN = 'test-token-0123456789';
const MAX_MEDIA = 64 * 1024;

interface Harness {
  bridge: HttpServer;
  journal: SqliteJournal;
  registry: RegistryDouble;
  db: SqliteDatabase;
  clients: Clients;
  url: string;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startBridge(
  options: { replayBatchSize?: number; maxUnacked?: number; journalFull?: boolean; authenticators?: DashboardAuthenticator[]; workerDelivery?: WorkerDeliveryFactory } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'stickerbot-bridge-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const db = openDatabase(join(dir, 'daemon.db'));
  cleanups.push(() => void db.close());
  const journal = createSqliteJournal(db);
  const registry = new RegistryDouble(journal);
  const logger = pino({ level: 'silent' });
  const executor = createCommandExecutor({ commandLog: createSqliteCommandLog(db), logger });
  const metricsRegistry = new Registry();
  const bridge = createHttpServer({
    registry,
    journal,
    executor,
    verifyToken: (presented) => presented === TOKEN,
    dashboardAuthenticator: composeAuthenticators(...(options.authenticators ?? []), createAdminTokenAuthenticator((presented) => presented === TOKEN)),
    logger,
    maxMediaBytes: MAX_MEDIA,
    startedAt: 1_700_000_000_000,
    now: Date.now,
    readiness: createReadiness({ isStoreOpen: () => db.open, isRunning: () => true, journal, registry, retention: () => ({ ok: !(options.journalFull ?? false), full: options.journalFull ?? false }) }),
    metrics: metricsRegistry,
    replayBatchSize: options.replayBatchSize,
    maxUnacked: options.maxUnacked,
    workerDelivery: options.workerDelivery,
  });
  const address = await bridge.listen('127.0.0.1', 0);
  const url = `http://127.0.0.1:${address.port}`;
  const clients = new Clients(() => url);
  cleanups.push(() => bridge.close());
  cleanups.push(() => clients.closeAll());
  return { bridge, journal, registry, db, clients, url };
}

function reaction(n: number): BotEvent {
  return {
    type: 'reaction:received',
    messageId: `m${n}`,
    chat: '100@s.whatsapp.net',
    sender: '200@s.whatsapp.net',
    emoji: '👍',
    timestamp: 1_700_000_000_000 + n,
  };
}

function emitWithAck<T>(socket: { emit: (...args: never[]) => unknown }, event: string, ...args: unknown[]): Promise<Result<T>> {
  return new Promise((resolve) => {
    (socket.emit as (...all: unknown[]) => unknown)(event, ...args, (result: Result<T>) => resolve(result));
  });
}

describe('http server: /worker handshake', () => {
  it('refuses a missing token, a wrong token, a wrong protocol version and a malformed group with their codes', async () => {
    const { clients } = await startBridge();
    expect(await refusal(clients.worker({}))).toMatchObject({ code: 'UNAUTHORIZED', retryable: false });
    expect(await refusal(clients.worker({ token: 'wrong-token-0123456789' }))).toMatchObject({ code: 'UNAUTHORIZED' });
    const mismatch = await refusal(clients.worker({ token: TOKEN, protocol: PROTOCOL_VERSION + 1 }));
    expect(mismatch).toMatchObject({ code: 'PROTOCOL_MISMATCH' });
    expect(mismatch?.message).toContain(String(PROTOCOL_VERSION));
    expect(await refusal(clients.worker({ token: TOKEN, group: 'Not A Group' }))).toMatchObject({ code: 'INVALID_ARGS' });
    await connected(clients.worker({ token: TOKEN }));
  });
});

describe('http server: a broken store', () => {
  it('refuses workers with a retryable error instead of crashing when the journal cannot be read', async () => {
    const { clients, db, url } = await startBridge();
    db.close();
    expect(await refusal(clients.worker({ token: TOKEN }))).toMatchObject({ code: 'SHUTTING_DOWN', retryable: true });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});

describe('http server: another delivery source', () => {
  it('refuses a worker with a retryable error when its delivery cannot be made, with the code of a typed refusal', async () => {
    const { clients } = await startBridge({ workerDelivery: () => Promise.reject(new Error('redis is down')) });
    expect(await refusal(clients.worker({ token: TOKEN }))).toMatchObject({ code: 'SHUTTING_DOWN', retryable: true });
    const typed = await startBridge({ workerDelivery: () => Promise.reject(new StickerbotError('INVALID_ARGS', 'no such group here')) });
    expect(await refusal(typed.clients.worker({ token: TOKEN }))).toMatchObject({ code: 'INVALID_ARGS', message: 'no such group here' });
  });

  it('hands a connection its group, its acknowledgements and its end to the delivery, which sends the packets', async () => {
    const seen: string[] = [];
    const workerDelivery: WorkerDeliveryFactory = (request) => {
      seen.push(`made ${request.group} ${String(request.position)}`);
      const delivery: WorkerDelivery = {
        start: () => request.target.send([{ seq: 40, sessionId: 'main', ts: 1, event: reaction(40) }]),
        offer: () => undefined,
        acknowledge: (position) => void seen.push(`ack ${position}`),
        stop: () => void seen.push('stop'),
        cursor: 40,
      };
      return Promise.resolve(delivery);
    };
    const { clients, registry, journal } = await startBridge({ workerDelivery });
    const worker = clients.worker({ token: TOKEN, group: 'py', position: 7 }, { connect: false });
    const entries = collectEntries(worker);
    worker.connect();
    await connected(worker);
    await until(() => entries.length === 1, 'the packet');
    expect(entries[0]?.seq).toBe(40);
    worker.emit('event:ack', { position: 40 });
    await until(() => seen.includes('ack 40'), 'the acknowledgement');
    worker.disconnect();
    await until(() => seen.includes('stop'), 'the stop');
    expect(seen).toEqual(['made py 7', 'ack 40', 'stop']);
    // The SQLite journal is not involved: no group registered there.
    registry.journalEvent('main', reaction(1));
    expect(journal.positions().map((group) => group.group)).not.toContain('py');
  });
});

describe('http server: journal delivery', () => {
  it('replays the journal after the given position, then delivers live entries', async () => {
    const { clients, registry } = await startBridge();
    for (let n = 1; n <= 5; n++) registry.journalEvent('main', reaction(n));
    const worker = clients.worker({ token: TOKEN, position: 2 }, { connect: false });
    const entries = collectEntries(worker);
    worker.connect();
    await connected(worker);
    await until(() => entries.length === 3, 'the replay');
    registry.journalEvent('main', reaction(6));
    await until(() => entries.length === 4, 'the live entry');
    expect(entries.map((entry) => entry.seq)).toEqual([3, 4, 5, 6]);
    expect(entries[3]).toMatchObject({ sessionId: 'main', event: { type: 'reaction:received', messageId: 'm6' } });
  });

  it('registers a new group at its handshake, so retention keeps what it has not acknowledged yet', async () => {
    const { clients, registry, journal } = await startBridge();
    for (let n = 1; n <= 50; n++) registry.journalEvent('main', reaction(n));
    journal.ack('old', 50);
    const worker = clients.worker({ token: TOKEN, group: 'fresh', position: 0 }, { connect: false });
    const entries = collectEntries(worker);
    worker.connect();
    await connected(worker);
    // The most aggressive retention, before the new group acknowledged anything.
    const outcome = journal.prune({ maxAgeMs: 0, maxCount: 0, maxUnacknowledged: 1_000, now: Date.now() + 60_000 });
    expect(outcome).toMatchObject({ pruned: 0, unacknowledged: 50 });
    expect(journal.position('fresh')).toBe(0);
    expect(journal.count()).toBe(50);
    await until(() => entries.length === 50, 'the replay of every entry');
    expect(contiguous(entries.map((entry) => entry.seq), 1, 50)).toBe(true);
  });

  it('replays from an older explicit position to a group that is already known', async () => {
    const { clients, registry, journal } = await startBridge();
    for (let n = 1; n <= 20; n++) registry.journalEvent('main', reaction(n));
    journal.ack('bot', 15);
    const worker = clients.worker({ token: TOKEN, group: 'bot', position: 5 }, { connect: false });
    const entries = collectEntries(worker);
    worker.connect();
    await connected(worker);
    await until(() => entries.length === 15, 'the replay from position 5');
    expect(contiguous(entries.map((entry) => entry.seq), 6, 20)).toBe(true);
    expect(journal.position('bot')).toBe(15);
  });

  it('delivers entries appended during the replay exactly once and in order', async () => {
    const { clients, registry } = await startBridge({ replayBatchSize: 50 });
    const backlog = 1500;
    for (let n = 1; n <= backlog; n++) registry.journalEvent('main', reaction(n));
    const worker = clients.worker({ token: TOKEN }, { connect: false });
    const entries = collectEntries(worker);
    let appended = 0;
    // While the replay is running, keep appending: some announced at once, some announced
    // late and out of order (the registry's emit is not guaranteed to follow the append at once).
    const held: Array<ReturnType<RegistryDouble['journalEvent']>> = [];
    worker.on('events:journaled', (batch) => {
      // Acknowledged as a worker does, so flow control keeps the entries coming.
      worker.emit('event:ack', { position: batch.at(-1)?.seq ?? 0 });
      if (!batch.some((entry) => entry.seq % 100 === 0) || appended >= 40) return;
      for (let i = 0; i < 4; i++) {
        appended++;
        const created = registry.journalEvent('main', reaction(backlog + appended), { announce: i % 2 === 0 });
        if (i % 2 === 1) held.push(created);
      }
      if (held.length >= 4) for (const late of held.splice(0).reverse()) registry.fire('journaled', late);
    });
    worker.connect();
    await connected(worker);
    await until(() => entries.length >= backlog + appended && appended >= 40, 'replay plus appends', 30_000);
    for (const late of held.splice(0)) registry.fire('journaled', late);
    registry.journalEvent('main', reaction(99_999));
    const total = backlog + appended + 1;
    await until(() => entries.length >= total, 'the final live entry');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(contiguous(entries.map((entry) => entry.seq), 1, total)).toBe(true);
  });

  it('keeps at most maxUnacked entries out to a worker and sends the rest as it acknowledges, in order, once each', async () => {
    const { clients, registry } = await startBridge({ replayBatchSize: 40, maxUnacked: 100 });
    for (let n = 1; n <= 250; n++) registry.journalEvent('main', reaction(n));
    const worker = clients.worker({ token: TOKEN, position: 0 });
    const entries = collectEntries(worker);
    await connected(worker);
    await until(() => entries.length === 100, 'the first window');
    // Live entries while the window is full wait in the journal, not in the socket.
    for (let n = 251; n <= 260; n++) registry.journalEvent('main', reaction(n));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(entries).toHaveLength(100);
    worker.emit('event:ack', { position: 30 });
    await until(() => entries.length === 130, 'thirty more after acknowledging thirty');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(entries).toHaveLength(130);
    worker.emit('event:ack', { position: 260 });
    await until(() => entries.length === 230, 'a full window after acknowledging everything held');
    worker.emit('event:ack', { position: 230 });
    await until(() => entries.length === 260, 'the rest');
    registry.journalEvent('main', reaction(261));
    await until(() => entries.length === 261, 'live again');
    expect(contiguous(entries.map((entry) => entry.seq), 1, 261)).toBe(true);
  });

  it('resumes from the group position when the worker names none, and acks advance it', async () => {
    const { clients, registry, journal } = await startBridge();
    for (let n = 1; n <= 4; n++) registry.journalEvent('main', reaction(n));
    const first = clients.worker({ token: TOKEN, group: 'bots' }, { connect: false });
    const seen = collectEntries(first);
    first.connect();
    await until(() => seen.length === 4, 'the first replay');
    first.emit('event:ack', { position: 3 });
    await until(() => journal.position('bots') === 3, 'the stored position');
    // A malformed ack is ignored; the position does not move.
    (first.emit as (...args: unknown[]) => unknown)('event:ack', { position: -1 });
    first.disconnect();

    const second = clients.worker({ token: TOKEN, group: 'bots' }, { connect: false });
    const replayed = collectEntries(second);
    second.connect();
    await until(() => replayed.length === 1, 'the second replay');
    expect(replayed[0]?.seq).toBe(4);
    expect(journal.position('bots')).toBe(3);
  });

  it('replays from the end of the journal when the worker is ahead of it', async () => {
    const { clients, registry } = await startBridge();
    registry.journalEvent('main', reaction(1));
    const worker = clients.worker({ token: TOKEN, position: 500 }, { connect: false });
    const entries = collectEntries(worker);
    worker.connect();
    await connected(worker);
    registry.journalEvent('main', reaction(2));
    await until(() => entries.length === 1, 'the new entry');
    expect(entries[0]?.seq).toBe(2);
  });
});

describe('http server: worker commands', () => {
  it('answers daemon:status and session:list locally', async () => {
    const { clients, registry } = await startBridge();
    registry.setSession('main', 'CONNECTED');
    const worker = clients.worker({ token: TOKEN });
    await connected(worker);
    const status = await emitWithAck<{ protocol: number }>(worker, 'daemon:status', { id: 'st-1' });
    expect(status).toMatchObject({ ok: true, result: { protocol: PROTOCOL_VERSION, startedAt: 1_700_000_000_000 } });
    const list = await emitWithAck(worker, 'session:list', { id: 'ls-1' });
    expect(list).toMatchObject({ ok: true, result: { sessions: [{ id: 'main', status: 'CONNECTED' }] } });
  });

  it('sends once for a duplicated command id, concurrent or repeated', async () => {
    const { clients, registry } = await startBridge();
    registry.setSession('main', 'CONNECTED');
    const worker = clients.worker({ token: TOKEN });
    await connected(worker);
    const args = { id: 'send-1', sessionId: 'main', chat: '100@s.whatsapp.net', content: { type: 'text', text: 'hi' } };
    const [a, b] = await Promise.all([emitWithAck(worker, 'message:send', args), emitWithAck(worker, 'message:send', args)]);
    const c = await emitWithAck(worker, 'message:send', args);
    expect(a.ok).toBe(true);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(registry.sent).toHaveLength(1);
  });

  it('registers every worker and dashboard command of the protocol, each validating its arguments', async () => {
    const { clients } = await startBridge();
    const worker = clients.worker({ token: TOKEN });
    const dashboard = clients.dashboard({ token: TOKEN });
    await Promise.all([connected(worker), connected(dashboard)]);
    for (const op of WORKER_COMMAND_NAMES) {
      const result = await emitWithAck(worker, op, { unexpected: true });
      expect(result, op).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS' } });
      // Refused by its own schema (the message starts with the op), not as an unknown command.
      expect(!result.ok && result.error.message.startsWith(`${op}:`), op).toBe(true);
    }
    for (const op of DASHBOARD_COMMAND_NAMES) {
      const result = await emitWithAck(dashboard, op, { sessionId: 'Not Valid' });
      expect(!result.ok && result.error.message.startsWith(`${op}:`), op).toBe(true);
    }
  });

  it('answers malformed and unknown commands with INVALID_ARGS and keeps serving', async () => {
    const { clients } = await startBridge();
    const worker = clients.worker({ token: TOKEN });
    await connected(worker);
    const malformed = await emitWithAck(worker, 'message:send', { id: 'x', sessionId: 'main', chat: 'not a jid', content: { type: 'text' } });
    expect(malformed).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', retryable: false } });
    expect(!malformed.ok && malformed.error.message).toMatch(/chat/);
    expect(await emitWithAck(worker, 'message:send', 'just a string')).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS' } });
    expect(await emitWithAck(worker, 'message:explode', { id: 'y' })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS' } });
    const noArgs = await new Promise<Result<unknown>>((resolve) =>
      (worker.emit as (...args: unknown[]) => unknown)('daemon:status', (result: Result<unknown>) => resolve(result)),
    );
    expect(noArgs).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS' } });
    expect(await emitWithAck(worker, 'daemon:status', { id: 'still-alive' })).toMatchObject({ ok: true });
  });

  it('refuses media over the cap with MEDIA_TOO_LARGE, and drops a packet over the Socket.IO limit', async () => {
    const { clients, registry } = await startBridge();
    registry.setSession('main', 'CONNECTED');
    const worker = clients.worker({ token: TOKEN });
    await connected(worker);
    const overCap = await emitWithAck(worker, 'message:send', {
      id: 'big-1',
      sessionId: 'main',
      chat: '100@s.whatsapp.net',
      content: { type: 'sticker', data: Buffer.alloc(MAX_MEDIA + 1, 1) },
    });
    expect(overCap).toMatchObject({ ok: false, error: { code: 'MEDIA_TOO_LARGE' } });
    expect(registry.sent).toHaveLength(0);

    const disconnected = next<string>(worker, 'disconnect');
    worker.emit('message:send', {
      id: 'big-2',
      sessionId: 'main',
      chat: '100@s.whatsapp.net',
      content: { type: 'sticker', data: Buffer.alloc(MAX_MEDIA + 200 * 1024, 1) },
    }, () => {
      throw new Error('the oversize packet must not be answered');
    });
    expect(await disconnected).toMatch(/close/);
    expect(registry.sent).toHaveLength(0);
  });
});

describe('http server: /dashboard', () => {
  it('refuses a wrong token and lists the sessions on connect', async () => {
    const { clients, registry } = await startBridge();
    registry.setSession('main', 'QR_REQUIRED');
    expect(await refusal(clients.dashboard({ token: 'nope' }))).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await refusal(clients.dashboard({}))).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await refusal(clients.dashboard({ token: TOKEN, protocol: 999 }))).toMatchObject({ code: 'PROTOCOL_MISMATCH' });
    const dashboard = clients.dashboard({ token: TOKEN });
    const listed = await next<{ sessions: Array<{ id: string }> }>(dashboard, 'session:listed');
    expect(listed.sessions.map((session) => session.id)).toEqual(['main']);
  });

  it("relays a session's events to its subscribers only", async () => {
    const { clients, registry } = await startBridge();
    registry.setSession('one', 'QR_REQUIRED');
    registry.setSession('two', 'QR_REQUIRED');
    const dashboard = clients.dashboard({ token: TOKEN });
    await connected(dashboard);
    const qrs: string[] = [];
    dashboard.on('session:qr', (qr) => qrs.push(qr.sessionId));
    expect(await emitWithAck(dashboard, 'session:subscribe', { sessionId: 'one' })).toMatchObject({ ok: true, result: { session: { id: 'one' } } });
    expect(await emitWithAck(dashboard, 'session:subscribe', { sessionId: 'ghost' })).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } });
    const qr = { qr: 'qr-data', dataUrl: 'data:image/png;base64,AAAA', expiresAt: Date.now() + 20_000 };
    registry.fire('session:qr', { sessionId: 'two', ...qr });
    registry.fire('session:qr', { sessionId: 'one', ...qr });
    await until(() => qrs.length === 1, 'the subscribed QR');
    const changed = next<{ id: string; status: string }>(dashboard, 'session:changed');
    registry.setSession('one', 'CONNECTED');
    expect(await changed).toMatchObject({ id: 'one', status: 'CONNECTED' });
    await emitWithAck(dashboard, 'session:unsubscribe', { sessionId: 'one' });
    registry.fire('session:qr', { sessionId: 'one', ...qr });
    // A round trip after the event: had it been relayed, it would have arrived first.
    await emitWithAck(dashboard, 'session:subscribe', { sessionId: 'two' });
    expect(qrs).toEqual(['one']);
  });

  it('creates, stops, pairs and logs out sessions, announcing a created one to every dashboard', async () => {
    const { clients } = await startBridge();
    const dashboard = clients.dashboard({ token: TOKEN });
    await next(dashboard, 'session:listed');
    const listed = next<{ sessions: Array<{ id: string }> }>(dashboard, 'session:listed');
    expect(await emitWithAck(dashboard, 'session:create', { sessionId: 'fresh' })).toMatchObject({ ok: true, result: { session: { id: 'fresh' } } });
    expect((await listed).sessions.map((session) => session.id)).toEqual(['fresh']);
    expect(await emitWithAck(dashboard, 'session:create', { sessionId: 'fresh' })).toMatchObject({ ok: false, error: { code: 'SESSION_EXISTS' } });
    expect(await emitWithAck(dashboard, 'session:stop', { sessionId: 'fresh' })).toMatchObject({ ok: true, result: { session: { status: 'STOPPED' } } });
    expect(await emitWithAck(dashboard, 'session:pair', { sessionId: 'fresh', phone: '4915123456789' })).toEqual({ ok: true, result: { code: 'ABCD1234' } });
    expect(await emitWithAck(dashboard, 'session:logout', { sessionId: 'fresh' })).toMatchObject({ ok: true, result: { session: { status: 'LOGGED_OUT' } } });
    expect(await emitWithAck(dashboard, 'session:create', { sessionId: 'Bad Id' })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS' } });
  });
});

describe('http server: one command binding for both namespaces', () => {
  it('answers malformed, payload-less and unknown commands with INVALID_ARGS on /dashboard as on /worker, and keeps serving', async () => {
    const { clients, registry } = await startBridge();
    registry.setSession('main', 'CONNECTED');
    const worker = clients.worker({ token: TOKEN });
    const dashboard = clients.dashboard({ token: TOKEN });
    await Promise.all([connected(worker), connected(dashboard)]);
    const invalid = { ok: false, error: { code: 'INVALID_ARGS', retryable: false } };
    for (const [socket, op, malformed] of [
      [worker, 'session:list', { id: 7 }],
      [dashboard, 'session:start', { sessionId: 7 }],
    ] as const) {
      const refused = await emitWithAck(socket, op, malformed);
      expect(refused).toMatchObject(invalid);
      expect(!refused.ok && refused.error.message.startsWith(`${op}:`)).toBe(true);
      expect(await emitWithAck(socket, op)).toMatchObject(invalid);
      expect(await emitWithAck(socket, 'no:such-command', {})).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS', message: 'unknown command no:such-command' } });
    }
    expect(await emitWithAck(dashboard, 'session:stop', { sessionId: 'main' })).toMatchObject({ ok: true, result: { session: { status: 'STOPPED' } } });
  });
});

describe('http server: /dashboard principals', () => {
  it('shows and lets a restricted principal act on the sessions of its claim only', async () => {
    const operator: Principal = { subject: 'olga', role: 'operator', sessions: new Set(['shop']) };
    const { clients, registry } = await startBridge({
      authenticators: [{ authenticate: (token) => (token === 'operator-token' ? operator : undefined) }],
    });
    registry.setSession('shop', 'CONNECTED');
    registry.setSession('private', 'CONNECTED');
    const dashboard = clients.dashboard({ token: 'operator-token' });
    const listed = await next<{ sessions: Array<{ id: string }> }>(dashboard, 'session:listed');
    expect(listed.sessions.map((session) => session.id)).toEqual(['shop']);
    expect(await emitWithAck(dashboard, 'session:subscribe', { sessionId: 'private' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await emitWithAck(dashboard, 'session:stop', { sessionId: 'private' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await emitWithAck(dashboard, 'session:create', { sessionId: 'mine' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await emitWithAck(dashboard, 'session:stop', { sessionId: 'shop' })).toMatchObject({ ok: true, result: { session: { status: 'STOPPED' } } });
    expect(registry.get('private')?.status).toBe('CONNECTED');
  });
});

describe('http server: HTTP', () => {
  const ADMIN = { headers: { authorization: `Bearer ${TOKEN}` } };

  it('answers /healthz, /readyz and /metrics, and 404 elsewhere', async () => {
    const { url, registry } = await startBridge();
    registry.setSession('main', 'CONNECTED');
    registry.journalEvent('main', reaction(1));
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${url}/readyz?verbose`, ADMIN);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { store: true, journal: { lastSeq: 1, full: false } }, sessions: [{ id: 'main', status: 'CONNECTED' }] });
    const metrics = await fetch(`${url}/metrics`, ADMIN);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect((await fetch(`${url}/nothing-here`)).status).toBe(404);
    expect((await fetch(`${url}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('reports not ready with 503 when the journal is full', async () => {
    const { url } = await startBridge({ journalFull: true });
    const ready = await fetch(`${url}/readyz?verbose`, ADMIN);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { problems: string[]; checks: { journal: { full: boolean } } };
    expect(body.checks.journal.full).toBe(true);
    expect(body.problems.join(' ')).toContain('journal is full');
  });

  it('reports not ready with 503 once the store is closed', async () => {
    const { url, db } = await startBridge();
    db.close();
    const ready = await fetch(`${url}/readyz?verbose`, ADMIN);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, checks: { store: false } });
  });
});
