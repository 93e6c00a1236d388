/**
 * The Redis of `pnpm dev --cluster`: a private `redis-server` (Debian's, on PATH) on a free
 * loopback port, AOF with `appendfsync always`, its data in `STICKERBOT_DEV_REDIS_DIR`
 * (kept, so the next start finds the cluster's state). A Node process of its own so that it
 * leaves with the dev script like the others (scripts/exit-with-parent.mjs, preloaded by
 * scripts/dev.ts): on SIGTERM it stops Redis and waits for it. Sends `{type: 'ready', url}`
 * over IPC once Redis answers.
 */
import { startRedisServer } from '@stickerbot/daemon/test-kit';

const dir = process.env.STICKERBOT_DEV_REDIS_DIR;
if (!dir) {
  process.stderr.write('dev-redis: STICKERBOT_DEV_REDIS_DIR must name the data folder (pnpm dev --cluster sets it)\n');
  process.exit(1);
}
const starting = startRedisServer({ dir, appendfsync: 'always' });
// Registered before Redis answers: a SIGTERM during the start (exit-with-parent's, the dev
// script's) waits for the redis-server it starts and stops it, rather than leave it behind.
process.once('SIGTERM', () => {
  void starting
    .then((server) => server.stop())
    .finally(() => {
      process.stdout.write('redis-server stopped\n');
      process.exit(0);
    });
});
const server = await starting;
process.stdout.write(`redis-server on ${server.url}, AOF (appendfsync always) in ${dir}\n`);
process.send?.({ type: 'ready', url: server.url });
