/**
 * Cluster mode's Redis auth state with the real Baileys client (issue 17): a session links
 * against the loopback WhatsApp emulator through the daemon's session registry and production
 * socket factory, its creds and Signal keys written to Redis through the fenced store (the
 * registry's auth store is the leased view over Redis; journal and outbox stay SQLite). A
 * second registry, as another daemon would be, with a data folder of its own that never saw
 * the session, takes the lease at a higher epoch and connects from Redis alone: no QR, and a
 * contact's message decrypts with the Signal sessions it found there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JournalEntry, Session } from '@stickerbot/protocol';
import {
  createBaileysSocketFactory,
  createLeasedAuthStore,
  createRedisAuthStore,
  createRedisConnection,
  createRedisKeys,
  createSessionLeases,
  createSessionRegistry,
  openStorage,
  type SessionRegistry,
  type SessionLeases,
  type Storage,
} from '@stickerbot/daemon';
import { startRedisServer, type TestRedisServer } from '@stickerbot/daemon/test-kit';
import type { Sim } from '@stickerbot/wa-sim';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTrustedSim } from '../scripts/support/emulator-stack.js';
import { until } from '../scripts/support/process-stack.js';

const BOT = '4915100000001';
const CONTACT = '4915200000002';
const SESSION = 'shop';
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const keys = createRedisKeys('test-emulator:');

type Redis = ReturnType<typeof createRedisConnection>;

let sim: Sim & { release(): Promise<void> };
let server: TestRedisServer;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  sim = await startTrustedSim();
  server = await startRedisServer();
}, 60_000);
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await sim?.release();
  await server?.close();
}, 60_000);

/** One daemon's worth of it: a data folder of its own, a Redis client, a lease holder and the registry over the leased Redis auth. */
interface Node {
  registry: SessionRegistry;
  storage: Storage;
  leases: SessionLeases;
  redis: Redis;
  qrs: string[];
  states: Session[];
  epoch: number;
  stop(): Promise<void>;
}

async function startNode(owner: string, onQr: (qr: string) => void = () => undefined): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), `stickerbot-cluster-${owner}-`));
  const storage = openStorage(dir, { checkpoint: 'commit' });
  const redis = createRedisConnection(server.url);
  const leases = createSessionLeases({ redis, keys, owner, timings: { leaseMs: 30_000 } });
  const epoch = await leases.acquire(SESSION);
  if (epoch === undefined) throw new Error(`${owner} could not take the lease of ${SESSION}`);
  const auth = createLeasedAuthStore();
  auth.attach(await createRedisAuthStore(redis, keys).open(SESSION, epoch));
  const registry = createSessionRegistry({
    storage: { journal: storage.journal, outbox: storage.outbox, sessions: storage.sessions, auth },
    socketFactory: createBaileysSocketFactory(),
    socketOptions: { waWebSocketUrl: sim.url, fetchAgent: sim.media.fetchAgent, fetchOptions: { dispatcher: sim.media.dispatcher } },
    maxMediaBytes: 16 * 1024 * 1024,
    logger,
    supervisor: { backoff: { baseMs: 100, capMs: 1_000 } },
  });
  const qrs: string[] = [];
  const states: Session[] = [];
  registry.on('session:qr', (payload) => {
    qrs.push(payload.qr);
    onQr(payload.qr);
  });
  registry.on('session:changed', (session) => void states.push(session));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await registry.stopAll();
    auth.detach(SESSION);
    await leases.close();
    redis.disconnect();
    storage.close();
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.push(stop);
  return { registry, storage, leases, redis, qrs, states, epoch, stop };
}

const connected = (node: Node) => node.registry.get(SESSION)?.status === 'CONNECTED';

describe('auth state in Redis with the real Baileys client', { timeout: 120_000 }, () => {
  it('links once, and another daemon reconnects from Redis alone without a QR', async () => {
    const first = await startNode('daemon-1', (qr) => void sim.scanQr(qr, { phone: BOT }).catch(() => undefined));
    await first.registry.create(SESSION);
    await until(() => connected(first), 'the session to link and connect', 60_000);
    expect(first.qrs.length).toBeGreaterThan(0);
    const redisAuth = createRedisAuthStore(first.redis, keys);
    expect(await redisAuth.hasCredentials(SESSION)).toBe(true);
    expect(await redisAuth.keyCount(SESSION)).toBeGreaterThan(0);
    await first.stop();

    const second = await startNode('daemon-2');
    expect(second.epoch).toBeGreaterThan(first.epoch);
    // This daemon's own SQLite never saw the session: it is registered here, and its auth comes from Redis.
    await second.registry.create(SESSION);
    await until(() => connected(second), 'the session to reconnect from Redis', 60_000);
    expect(second.qrs).toEqual([]);
    expect(second.states.map((s) => s.status)).not.toContain('QR_REQUIRED');
    expect(second.registry.get(SESSION)?.account?.phone).toBe(BOT);

    await sim.phone(CONTACT, { name: 'Alice' }).sendText('hello after the move');
    let received: JournalEntry | undefined;
    await until(() => {
      received = second.storage.journal.readAfter(0, 1_000).find((e) => e.event.type === 'message:received');
      return received !== undefined;
    }, 'the contact message to be journaled', 30_000);
    expect(received?.event).toMatchObject({ type: 'message:received', message: { text: 'hello after the move' } });
  });
});
