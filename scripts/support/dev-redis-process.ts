/** Starts scripts/dev-redis.ts (the Redis of `pnpm dev --cluster`) and waits until Redis answers. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { TSX_ARGS } from './process-stack.js';

/**
 * Forks the Redis keeper in its own process group with `env` (the dev script's, which
 * preloads exit-with-parent) and resolves with Redis' URL. `onStarted` gets the child at
 * once, so that a stop during the start can end it.
 */
export function startDevRedis(root: string, dir: string, env: NodeJS.ProcessEnv, onStarted: (child: ChildProcess) => void): Promise<string> {
  const child = fork(join(root, 'scripts/dev-redis.ts'), [], {
    cwd: root,
    env: { ...env, STICKERBOT_DEV_REDIS_DIR: dir },
    execArgv: TSX_ARGS,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
  });
  onStarted(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`Redis (scripts/dev-redis.ts) exited before it was ready (code ${code ?? 'signal'})`)));
    child.on('message', (message) => {
      const ready = message as { type?: string; url?: string };
      if (ready.type === 'ready' && ready.url) resolve(ready.url);
    });
  });
}
