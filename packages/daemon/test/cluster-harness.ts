/**
 * What the cluster journal's tests share: a real Redis with a client, and journal events of
 * chosen chats. Used by the tests of src/cluster/.
 */
import type { BotEvent } from '@stickerbot/protocol';
import { Redis } from 'ioredis';
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

/** A client for `url` that fails fast instead of queueing while Redis is down. */
export function testClient(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: (times) => Math.min(times * 50, 500) });
  client.on('error', () => undefined);
  return client;
}

/** A real Redis (AOF, `appendfsync always`) and one client, torn down with `await using`. */
export async function startJournalRedis(): Promise<{ server: TestRedisServer; redis: Redis; [Symbol.asyncDispose](): Promise<void> }> {
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
