/**
 * What the cluster tests with child processes share (cluster-fencing, cluster-takeover): one
 * real Redis for the file, children started with tsx that talk to it under a key prefix, and
 * their stdout read as JSON lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startRedisServer, type TestRedisServer } from '@stickerbot/daemon/test-kit';
import { afterAll, beforeAll } from 'vitest';
import { killAll, repoRoot, TSX_ARGS } from '../../scripts/support/process-stack.js';

/** The file's Redis and children, set up by {@link useClusterChildren}. */
export interface ClusterChildren {
  /** The Redis started before the file's tests (valid inside a test). */
  readonly server: TestRedisServer;
  /**
   * Starts `test/support/<script>` with `REDIS_URL`, `KEY_PREFIX` and `env`; every stdout line
   * is parsed as JSON and handed to `onLine`. SIGKILLed after the file's tests.
   */
  spawn<T>(script: string, prefix: string, env: Record<string, string>, onLine: (line: T) => void, stderr?: 'pipe' | 'inherit'): ChildProcess;
}

/** Starts a Redis before the file's tests; kills every child and closes Redis after them. */
export function useClusterChildren(): ClusterChildren {
  let server: TestRedisServer | undefined;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await killAll(children);
    await server?.close();
  });
  return {
    get server() {
      if (!server) throw new Error('the cluster Redis is started in beforeAll');
      return server;
    },
    spawn<T>(script: string, prefix: string, env: Record<string, string>, onLine: (line: T) => void, stderr: 'pipe' | 'inherit' = 'pipe') {
      const child = spawn(process.execPath, [...TSX_ARGS, join(repoRoot, 'test/support', script)], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', REDIS_URL: this.server.url, KEY_PREFIX: prefix, ...env },
        stdio: ['ignore', 'pipe', stderr],
      });
      children.push(child);
      let partial = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const part of parts) if (part.trim() !== '') onLine(JSON.parse(part) as T);
      });
      return child;
    },
  };
}
