/**
 * What the cluster tests with child processes share (cluster-fencing, cluster-takeover): one
 * real Redis for the file, children started with tsx that talk to it under a key prefix, and
 * their stdout read as JSON lines.
 */
import type { ChildProcess } from 'node:child_process';
import { isAbsolute, join } from 'node:path';
import { startRedisServer, type TestRedisServer } from '@stickerbot/daemon/test-kit';
import { afterAll, beforeAll } from 'vitest';
import { spawnJsonLinesChild } from '../../scripts/support/cluster-children.js';
import { killAll, repoRoot } from '../../scripts/support/process-stack.js';

/** The file's Redis and children, set up by {@link useClusterChildren}. */
export interface ClusterChildren {
  /** The Redis started before the file's tests (valid inside a test). */
  readonly server: TestRedisServer;
  /**
   * Starts `test/support/<script>` (or the file at an absolute path) with `REDIS_URL`,
   * `KEY_PREFIX` and `env`; every stdout line is parsed as JSON and handed to `onLine`.
   * SIGKILLed after the file's tests.
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
      const path = isAbsolute(script) ? script : join(repoRoot, 'test/support', script);
      const child = spawnJsonLinesChild(path, { url: this.server.url, prefix }, env, onLine, stderr);
      children.push(child);
      return child;
    },
  };
}
