import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { useClusterRedis } from '../../test/cluster-harness.js';
import { ClusterError, createRedisConnection, defineScript, isClusterError, type RedisConnectionOptions } from './redis-connection.js';
import { createRedisKeys, DEFAULT_REDIS_KEY_PREFIX } from './redis-keys.js';

describe('redis keys', () => {
  it('puts every key of a session in one hash slot under the prefix', () => {
    const keys = createRedisKeys().session('shop');
    expect(DEFAULT_REDIS_KEY_PREFIX).toBe('stickerbot:');
    for (const key of Object.values(keys)) expect(key).toMatch(/^stickerbot:session:\{shop\}:[a-z]+$/);
    expect(createRedisKeys('acme:').sessions).toBe('acme:sessions');
  });

  it("names the journal's keys under the same prefix", () => {
    const { journal } = createRedisKeys('acme:');
    expect([journal.seq, journal.meta, journal.messages, journal.groups]).toEqual(['acme:journal:seq', 'acme:journal:meta', 'acme:journal:messages', 'acme:journal:groups']);
    expect([journal.stream(3), journal.lease('bot', 3), journal.epoch('bot', 3), journal.consumers('bot')]).toEqual([
      'acme:journal:p:3',
      'acme:journal:lease:bot:3',
      'acme:journal:epoch:bot:3',
      'acme:journal:consumers:bot',
    ]);
  });

  it('refuses a prefix with spaces or braces', () => {
    expect(() => createRedisKeys('a b')).toThrow(/invalid Redis key prefix/);
    expect(() => createRedisKeys('{x}')).toThrow(/invalid Redis key prefix/);
  });
});

describe('redis connection', () => {
  const cluster = useClusterRedis();
  /** A connection with `options`, disconnected after the test. */
  const connect = (options: RedisConnectionOptions = {}): Redis => {
    const client = createRedisConnection(cluster.server.url, options);
    cluster.afterTest(() => client.disconnect());
    return client;
  };

  it('refuses a URL that is not redis:// with a typed error', () => {
    let thrown: unknown;
    try {
      createRedisConnection('http://127.0.0.1:6379');
    } catch (error) {
      thrown = error;
    }
    expect(isClusterError(thrown, 'CLUSTER_CONFIG')).toBe(true);
    expect(() => createRedisConnection('not a url')).toThrow(ClusterError);
  });

  it('runs a defined script again after Redis restarted with an empty script cache', async () => {
    const client = connect({ maxReconnectDelayMs: 100 });
    const incrBy = defineScript<number>(client, 'testIncrBy', 1, "return redis.call('INCRBY', KEYS[1], ARGV[1])");
    expect(await incrBy(['counter'], [2])).toBe(2);
    await cluster.server.restart();
    expect(await incrBy(['counter'], [3])).toBe(5);
    await expect(incrBy([], [1])).rejects.toMatchObject({ code: 'CLUSTER_CONFIG' });
  });

  it('tells an error reply (a key of the wrong type) from an unavailable Redis', async () => {
    const client = connect();
    await client.set('plain', 'x');
    const hashGet = defineScript<string>(client, 'testHashGet', 1, "return redis.call('HGET', KEYS[1], 'f')");
    await expect(hashGet(['plain'], [])).rejects.toMatchObject({ code: 'REDIS_REFUSED', message: expect.stringContaining('WRONGTYPE') as unknown });
  });

  it('rides out a Redis restart shorter than the command timeout: a command sent while it is down completes once it is back', async () => {
    const client = connect({ commandTimeoutMs: 5_000, maxReconnectDelayMs: 100 });
    const incrBy = defineScript<number>(client, 'testIncrByDown', 1, "return redis.call('INCRBY', KEYS[1], ARGV[1])");
    expect(await incrBy(['down'], [1])).toBe(1);
    await cluster.server.kill();
    const sent = incrBy(['down'], [2]);
    // Longer than the reconnect attempts a retry limit of 2 allowed (100 + 200 ms), as a real restart takes.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await cluster.server.restart();
    expect(await sent).toBe(3);
  });

  it('fails a command with REDIS_UNAVAILABLE when Redis is gone', async () => {
    const client = connect({ commandTimeoutMs: 300, maxReconnectDelayMs: 100 });
    cluster.afterTest(() => cluster.server.restart());
    const ping = defineScript<string>(client, 'testPing', 0, "return 'pong'");
    expect(await ping([], [])).toBe('pong');
    await cluster.server.kill();
    await expect(ping([], [])).rejects.toMatchObject({ name: 'ClusterError', code: 'REDIS_UNAVAILABLE' });
  });
});
