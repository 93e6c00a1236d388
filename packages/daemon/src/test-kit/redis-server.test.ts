import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedisServer, type TestRedisServer } from './redis-server.js';

describe('startRedisServer', () => {
  let server: TestRedisServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('keeps what AOF fsynced across a SIGKILL and a restart on the same port', async () => {
    server = await startRedisServer();
    const client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    await client.set('k', 'v');
    client.disconnect();
    await server.kill();
    await server.restart();
    const again = new Redis(server.url, { lazyConnect: true });
    await again.connect();
    expect(await again.get('k')).toBe('v');
    again.disconnect();
  });

  it('says which binary it could not start', async () => {
    await expect(startRedisServer({ binary: '/nonexistent/redis-server' })).rejects.toThrow(/cannot start '\/nonexistent\/redis-server'/);
  });
});
