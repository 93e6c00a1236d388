/**
 * Commands reach the owner and dashboards see the whole cluster (issue #17), over loopback:
 * two real bridges (HTTP + Socket.IO servers, each with its SQLite journal and a double of the
 * session registry) on one real redis-server, sharing the Redis command log, the command
 * forwarding and the Socket.IO Redis Streams adapter. "Owning a session" is holding its lease
 * (cluster/session-lease.ts), nothing more.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Result, Session } from '@stickerbot/protocol';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { composeAuthenticators, createAdminTokenAuthenticator, type Principal } from '../src/bridge/auth.js';
import { createCommandExecutor } from '../src/bridge/command-executor.js';
import { createReadiness } from '../src/bridge/readiness.js';
import { createClusterAdapter, listClusterSessions } from '../src/cluster/cluster-dashboards.js';
import { createCommandForwarding, type CommandForwarding } from '../src/cluster/command-forwarding.js';
import { createRedisCommandLog } from '../src/cluster/redis-command-log.js';
import { createRedisKeys } from '../src/cluster/redis-keys.js';
import { createRedisSessionStore } from '../src/cluster/redis-session-store.js';
import { createSessionLeases, type SessionLeases } from '../src/cluster/session-lease.js';
import { createHttpServer } from '../src/http-server.js';
import { openDatabase } from '../src/storage/sqlite-database.js';
import { createSqliteJournal } from '../src/storage/sqlite-journal.js';
import { Clients, connected, eventually, next, until, type DashboardClient } from './bridge-harness.js';
import { useClusterRedis } from './cluster-harness.js';
import { RegistryDouble } from './registry-double.js';

const TOKEN = 'cluster-token-0123456789';
const cluster = useClusterRedis();

/** One daemon of the test cluster: a bridge on loopback, its leases and its forwarding. */
interface TestDaemon {
  id: string;
  registry: RegistryDouble;
  leases: SessionLeases;
  forwarding: CommandForwarding;
  clients: Clients;
}

async function startDaemon(id: string, prefix: string, options: { acceptTimeoutMs?: number; replyTimeoutMs?: number; sessions?: string[]; leases?: SessionLeases } = {}): Promise<TestDaemon> {
  const keys = createRedisKeys(prefix);
  const redis = cluster.connect();
  const logger = pino({ level: 'silent' });
  const dir = mkdtempSync(join(tmpdir(), 'stickerbot-cluster-commands-'));
  const db = openDatabase(join(dir, 'daemon.db'));
  const journal = createSqliteJournal(db);
  const registry = new RegistryDouble(journal);
  registry.sendImpl = (args) => Promise.resolve({ messageId: `${id}:${args.id}:${registry.sent.length}`, timestamp: 1_700_000_000_000 });
  for (const session of options.sessions ?? []) registry.setSession(session, 'CONNECTED');
  const leases = options.leases ?? createSessionLeases({ redis, keys, owner: id });
  const owns = (sessionId: string): boolean => leases.epochOf(sessionId) !== undefined;
  const forwarding = createCommandForwarding({
    redis,
    keys,
    daemonId: id,
    ownerOf: async (sessionId) => (await leases.holderOf(sessionId))?.owner,
    owns,
    logger,
    ...(options.acceptTimeoutMs === undefined ? {} : { acceptTimeoutMs: options.acceptTimeoutMs }),
    ...(options.replyTimeoutMs === undefined ? {} : { replyTimeoutMs: options.replyTimeoutMs }),
  });
  const executor = createCommandExecutor({
    commandLog: createRedisCommandLog({ redis, keys, holder: id, maxAgeMs: 3_600_000 }),
    route: forwarding.route,
    logger,
  });
  const olga: Principal = { subject: 'olga', role: 'operator', sessions: new Set(['shop']) };
  const sessionStore = createRedisSessionStore(redis, keys);
  const bridge = createHttpServer({
    registry,
    journal,
    executor,
    verifyToken: (presented) => presented === TOKEN,
    dashboardAuthenticator: composeAuthenticators(
      { authenticate: (token) => (token === 'olga-token' ? olga : undefined) },
      createAdminTokenAuthenticator((presented) => presented === TOKEN),
    ),
    logger,
    maxMediaBytes: 64 * 1024,
    startedAt: Date.now(),
    now: Date.now,
    readiness: createReadiness({ isStoreOpen: () => db.open, isRunning: () => true, journal, registry, retention: () => ({ ok: true, full: false }) }),
    metrics: new Registry(),
    adapter: createClusterAdapter(redis, keys),
    forwarding,
    clusterSessions: () => listClusterSessions(sessionStore, () => registry.list().filter((session) => owns(session.id))),
  });
  const address = await bridge.listen('127.0.0.1', 0);
  forwarding.start();
  const clients = new Clients(() => `http://127.0.0.1:${address.port}`);
  cluster.afterTest(() => {
    rmSync(dir, { recursive: true, force: true });
    db.close();
  });
  cluster.afterTest(() => bridge.close());
  cluster.afterTest(() => forwarding.close());
  cluster.afterTest(() => leases.close());
  cluster.afterTest(() => clients.closeAll());
  return { id, registry, leases, forwarding, clients };
}

/** Two daemons on a fresh key prefix; `b` owns session `shop`. */
async function twoDaemons(options: { acceptTimeoutMs?: number; replyTimeoutMs?: number } = {}) {
  const prefix = `cc-${randomUUID().slice(0, 8)}:`;
  const a = await startDaemon('daemon-a', prefix, options);
  const b = await startDaemon('daemon-b', prefix, options);
  expect(await b.leases.acquire('shop')).toBeGreaterThan(0);
  b.registry.setSession('shop', 'CONNECTED');
  return { a, b, prefix };
}

function ask<T>(socket: { emit: (...args: never[]) => unknown }, event: string, args: unknown): Promise<Result<T>> {
  return new Promise((resolve) => {
    (socket.emit as (...all: unknown[]) => unknown)(event, args, (result: Result<T>) => resolve(result));
  });
}

const send = (id: string, text = 'hi') => ({ id, sessionId: 'shop', chat: '100@s.whatsapp.net', content: { type: 'text', text } });

describe('cluster: commands reach the owner', () => {
  it("runs a send for another daemon's session once, at its owner, and answers every repeat of the id from the shared log", async () => {
    const { a, b } = await twoDaemons();
    const atA = a.clients.worker({ token: TOKEN });
    const atB = b.clients.worker({ token: TOKEN });
    await Promise.all([connected(atA), connected(atB)]);

    const first = await ask(atA, 'message:send', send('c-1'));
    expect(first).toEqual({ ok: true, result: { messageId: 'daemon-b:c-1:1', timestamp: 1_700_000_000_000 } });
    expect(b.registry.sent.map((args) => args.id)).toEqual(['c-1']);
    expect(a.registry.sent).toEqual([]);

    // The worker retries at either daemon: the recorded outcome, no second send.
    expect(await ask(atA, 'message:send', send('c-1'))).toEqual(first);
    expect(await ask(atB, 'message:send', send('c-1'))).toEqual(first);
    const [x, y] = await Promise.all([ask(atA, 'message:send', send('c-2')), ask(atB, 'message:send', send('c-2'))]);
    expect(y).toEqual(x);
    expect(b.registry.sent.map((args) => args.id)).toEqual(['c-1', 'c-2']);

    // The same id asking for something else is refused wherever it arrives.
    for (const socket of [atA, atB]) {
      expect(await ask(socket, 'message:send', send('c-1', 'other text'))).toMatchObject({ ok: false, error: { code: 'IDEMPOTENCY_CONFLICT', retryable: false } });
    }
    expect(b.registry.sent).toHaveLength(2);
    expect(a.forwarding.pending).toBe(0);
  });

  it('keeps the owner’s typed error and the binary of a forwarded media download', async () => {
    const { a } = await twoDaemons();
    const atA = a.clients.worker({ token: TOKEN });
    await connected(atA);
    const media = await ask<{ data: Buffer; size: number }>(atA, 'media:download', { id: 'dl-1', sessionId: 'shop', messageId: 'm1' });
    expect(media).toMatchObject({ ok: true, result: { mimetype: 'image/png', size: 5 } });
    expect(media.ok && Buffer.from(media.result.data).toString()).toBe('media');
    // The owner validates the forwarded arguments again and answers its own errors.
    expect(await ask(atA, 'message:send', { id: 'big', sessionId: 'shop', chat: '100@s.whatsapp.net', content: { type: 'sticker', data: Buffer.alloc(64 * 1024 + 1) } })).toMatchObject({
      ok: false,
      error: { code: 'MEDIA_TOO_LARGE' },
    });
  });

  it('answers a retryable SESSION_NOT_CONNECTED at once for a session nobody owns', async () => {
    const { a } = await twoDaemons();
    const atA = a.clients.worker({ token: TOKEN });
    await connected(atA);
    const started = performance.now();
    const answer = await ask(atA, 'message:send', { ...send('orphan-1'), sessionId: 'orphan' });
    expect(answer).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_CONNECTED', retryable: true } });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('gives up on an owner that does not take the command in time, which then never runs it', async () => {
    const { a, prefix } = await twoDaemons({ acceptTimeoutMs: 300 });
    // A daemon that holds a lease but reads no inbox (hung): its command waits there.
    const hung = createSessionLeases({ redis: cluster.connect(), keys: createRedisKeys(prefix), owner: 'daemon-c' });
    cluster.afterTest(() => hung.close());
    expect(await hung.acquire('stalled')).toBeGreaterThan(0);
    const atA = a.clients.worker({ token: TOKEN });
    await connected(atA);
    const answer = await ask(atA, 'message:send', { ...send('late-1'), sessionId: 'stalled' });
    expect(answer).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_CONNECTED', retryable: true } });
    expect(!answer.ok && answer.error.message).toContain('daemon-c');
    expect(a.forwarding.pending).toBe(0);

    // daemon-c comes back, still owning the session, and reads its inbox: the withdrawn request is dropped, not run.
    const c = await startDaemon('daemon-c', prefix, { sessions: ['stalled'], leases: hung });
    const inbox = cluster.connect();
    await eventually(() => inbox.llen(createRedisKeys(prefix).inbox('daemon-c')), (length) => length === 0, "daemon-c's inbox drained");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(c.registry.sent).toEqual([]);
  });

  it('answers a retryable TIMEOUT when the owner took the command but did not answer, and the retry joins its outcome', async () => {
    const { a, b } = await twoDaemons({ acceptTimeoutMs: 300, replyTimeoutMs: 800 });
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    b.registry.sendImpl = async (args) => {
      await gate;
      return { messageId: `slow:${args.id}`, timestamp: 1 };
    };
    const atA = a.clients.worker({ token: TOKEN });
    await connected(atA);
    expect(await ask(atA, 'message:send', send('slow-1'))).toMatchObject({ ok: false, error: { code: 'TIMEOUT', retryable: true } });
    expect(a.forwarding.pending).toBe(0);
    const retry = ask(atA, 'message:send', send('slow-1'));
    finish();
    expect(await retry).toEqual({ ok: true, result: { messageId: 'slow:slow-1', timestamp: 1 } });
    expect(b.registry.sent).toHaveLength(1);
  });

  it('answers the forwards still waiting with SHUTTING_DOWN when the daemon stops, leaving none pending', async () => {
    const { a, prefix } = await twoDaemons();
    const hung = createSessionLeases({ redis: cluster.connect(), keys: createRedisKeys(prefix), owner: 'daemon-c' });
    cluster.afterTest(() => hung.close());
    await hung.acquire('stalled');
    const atA = a.clients.worker({ token: TOKEN });
    await connected(atA);
    const answer = ask(atA, 'message:send', { ...send('stop-1'), sessionId: 'stalled' });
    await until(() => a.forwarding.pending === 1, 'the forward to wait');
    await a.forwarding.close();
    expect(await answer).toMatchObject({ ok: false, error: { code: 'SHUTTING_DOWN', retryable: true } });
    expect(a.forwarding.pending).toBe(0);
  });

  it('refuses, at the owner, a request for a session it no longer holds or a command it does not know, and ignores a malformed item', async () => {
    const { b, prefix } = await twoDaemons();
    const keys = createRedisKeys(prefix);
    const redis = cluster.connect();
    /** Pushes a request into b's inbox as daemon-x would (with its claim) and reads b's answer from daemon-x's inbox. */
    async function requestAtB(request: Record<string, unknown>): Promise<unknown> {
      const rid = randomUUID();
      await redis.multi().set(keys.forwardClaim(rid), 'daemon-x', 'PX', 10_000).lpush(keys.inbox(b.id), JSON.stringify({ kind: 'request', rid, from: 'daemon-x', context: null, ...request })).exec();
      const popped = await redis.brpop(keys.inbox('daemon-x'), 10);
      expect(popped).not.toBeNull();
      const reply = JSON.parse(popped?.[1] ?? 'null') as { kind: string; rid: string; result: unknown };
      expect(reply).toMatchObject({ kind: 'reply', rid });
      return reply.result;
    }
    // The lease moved on between the requester's lookup and the owner taking the request.
    expect(await requestAtB({ table: 'worker', op: 'message:send', args: { ...send('moved-1'), sessionId: 'elsewhere' } })).toMatchObject({
      ok: false,
      error: { code: 'SESSION_NOT_CONNECTED', retryable: true, message: expect.stringContaining('moved away from daemon daemon-b') as unknown },
    });
    expect(await requestAtB({ table: 'worker', op: 'session:reboot', args: {} })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS' } });
    expect(await requestAtB({ table: 'worker', op: 'message:send', args: { sessionId: 'shop' } })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS' } });
    await redis.lpush(keys.inbox(b.id), '{"kind":"request"');
    // b still serves after the malformed item: its own session's send runs there.
    expect(await requestAtB({ table: 'worker', op: 'message:send', args: send('after-junk') })).toMatchObject({ ok: true });
    expect(b.registry.sent.map((args) => args.id)).toEqual(['after-junk']);
  });

  it('refuses a forwarding set up wrongly with CLUSTER_CONFIG', () => {
    const base = { redis: cluster.connect(), keys: createRedisKeys('cfg:'), daemonId: 'daemon-z', ownerOf: () => Promise.resolve(undefined), owns: () => false, logger: pino({ level: 'silent' }) };
    expect(() => createCommandForwarding({ ...base, acceptTimeoutMs: 5_000, replyTimeoutMs: 5_000 })).toThrow(expect.objectContaining({ code: 'CLUSTER_CONFIG' }));
    expect(() => createCommandForwarding({ ...base, acceptTimeoutMs: 0 })).toThrow(expect.objectContaining({ code: 'CLUSTER_CONFIG' }));
    const forwarding = createCommandForwarding(base);
    const executor = createCommandExecutor({ commandLog: createRedisCommandLog({ redis: base.redis, keys: base.keys, holder: 'daemon-z', maxAgeMs: 60_000 }), logger: base.logger });
    const table = { name: 'worker' as const, commands: {}, executor, encodeContext: () => null, decodeContext: () => null };
    forwarding.serve(table);
    expect(() => forwarding.serve(table)).toThrow(expect.objectContaining({ code: 'CLUSTER_CONFIG', message: expect.stringContaining('served already') as unknown }));
  });
});

describe('cluster: dashboards see the whole cluster', () => {
  it("lists the cluster's sessions within the JWT scope, and shows a status change made at the owner to a dashboard at another daemon", async () => {
    const { a, b, prefix } = await twoDaemons();
    const store = createRedisSessionStore(cluster.connect(), createRedisKeys(prefix));
    await store.save({ id: 'shop', status: 'CONNECTED', autostart: true });
    await store.save({ id: 'secret', status: 'CONNECTED', autostart: true });
    expect(await b.leases.acquire('secret')).toBeGreaterThan(0);
    b.registry.setSession('secret', 'CONNECTED');

    const olga: DashboardClient = a.clients.dashboard({ token: 'olga-token' });
    const listed = await next<{ sessions: Session[] }>(olga, 'session:listed');
    expect(listed.sessions.map((session) => session.id)).toEqual(['shop']);
    const admin: DashboardClient = a.clients.dashboard({ token: TOKEN });
    const all = await next<{ sessions: Session[] }>(admin, 'session:listed');
    expect(all.sessions.map((session) => session.id).sort()).toEqual(['secret', 'shop']);

    // The subscription runs at the owner and joins olga's socket at daemon A to the room.
    expect(await ask(olga, 'session:subscribe', { sessionId: 'shop' })).toMatchObject({ ok: true, result: { session: { id: 'shop', status: 'CONNECTED' } } });
    expect(await ask(olga, 'session:subscribe', { sessionId: 'secret' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    const changes: Session[] = [];
    olga.on('session:changed', (session) => changes.push(session));
    b.registry.setSession('secret', 'RECONNECTING');
    b.registry.setSession('shop', 'RECONNECTING');
    await until(() => changes.length > 0, "shop's change at daemon A");
    expect(changes.map((session) => [session.id, session.status])).toEqual([['shop', 'RECONNECTING']]);

    // A dashboard command for the session reaches its owner.
    expect(await ask(olga, 'session:stop', { sessionId: 'shop' })).toMatchObject({ ok: true, result: { session: { status: 'STOPPED' } } });
    expect(b.registry.get('shop')?.status).toBe('STOPPED');
    await until(() => changes.length === 2, 'the stop at daemon A');
    expect(a.registry.get('shop')).toBeUndefined();
  });
});
