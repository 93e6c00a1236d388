/**
 * What the tests of src/cluster/ share: a real Redis (the test kit's, AOF `appendfsync
 * always`) reached through the cluster's own connection (`createRedisConnection`), what they
 * open torn down after each test, and journal events of chosen chats.
 */
import type { BotEvent } from '@stickerbot/protocol';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createRedisConnection } from '../src/cluster/redis-connection.js';
import { startRedisServer, type TestRedisServer } from '../src/test-kit/index.js';

/** A `message:received` event with a text, in `chat`. */
export function textEvent(id: string, chat: string, text = id): BotEvent {
  return {
    type: 'message:received',
    message: { id, chat, sender: chat, fromMe: false, isGroup: false, timestamp: 1_700_000_000_000, kind: 'text', text, backlog: false },
  };
}

/** `count` chat JIDs (`4915100000001@s.whatsapp.net`, …). */
export function chats(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `491510000${String(i + 1).padStart(4, '0')}@s.whatsapp.net`);
}

/** A cluster connection to `url` that reconnects quickly (a test restarts Redis under it). */
export function testClient(url: string): Redis {
  return createRedisConnection(url, { maxReconnectDelayMs: 500 });
}

/** One Redis for a test file, set up by {@link useClusterRedis}. */
export interface ClusterRedis {
  /** The Redis started before the file's tests (valid inside a test). */
  readonly server: TestRedisServer;
  /** A new connection, disconnected after the test. */
  connect(): Redis;
  /** Runs `close` after the test, before its connections are disconnected; the last registered runs first. */
  afterTest(close: () => unknown): void;
}

/** Starts a Redis before the file's tests and closes it after them; see {@link ClusterRedis}. */
export function useClusterRedis(): ClusterRedis {
  let server: TestRedisServer | undefined;
  const clients: Redis[] = [];
  const closers: Array<() => unknown> = [];
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await Promise.resolve(close()).catch(() => undefined);
    for (const client of clients.splice(0)) client.disconnect();
  });
  afterAll(async () => {
    await server?.close();
  });
  return {
    get server() {
      if (!server) throw new Error('the cluster Redis is started in beforeAll');
      return server;
    },
    connect() {
      const client = testClient(this.server.url);
      clients.push(client);
      return client;
    },
    afterTest(close) {
      closers.push(close);
    },
  };
}

/** A Redis of its own and one client, torn down with `await using` (a test that kills or fills it). */
export async function startClusterRedis(): Promise<{ server: TestRedisServer; redis: Redis; [Symbol.asyncDispose](): Promise<void> }> {
  const server = await startRedisServer();
  const redis = testClient(server.url);
  return {
    server,
    redis,
    async [Symbol.asyncDispose]() {
      redis.disconnect();
      await server.close();
    },
  };
}
