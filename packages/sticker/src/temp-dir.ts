import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Runs `fn` with a fresh private folder under `root`, removed in `finally` whatever happens. */
export async function withTempDir<T>(root: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(root, 'stickerbot-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
