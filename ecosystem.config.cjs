// pm2 ecosystem: `pnpm exec pm2 start ecosystem.config.cjs`.
// Both apps run from TypeScript source through tsx (no build step to forget), from the
// repository root, and read the same `.env` there. The daemon is never restarted by a
// worker reload: `pnpm exec pm2 reload stickerbot-worker` touches the worker only.
const path = require('node:path');
const fs = require('node:fs');

const root = __dirname;
const envFile = path.join(root, '.env');
const fileEnv = {};
if (fs.existsSync(envFile)) {
  // The processes load .env themselves; the ecosystem reads it only to find the data folder.
  for (const line of fs.readFileSync(envFile, 'utf8').split('\n')) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) fileEnv[match[1]] = match[2].replace(/^(['"])(.*)\1$/, '$2');
  }
}
const dataDir = path.resolve(root, process.env.STICKERBOT_DATA_DIR ?? fileEnv.STICKERBOT_DATA_DIR ?? 'data');
const logs = path.join(dataDir, 'logs');

const common = {
  cwd: root,
  interpreter: 'node',
  node_args: ['--import', 'tsx', '--conditions=@stickerbot/source'],
  watch: false,
  autorestart: true,
  merge_logs: true,
  time: true,
  exp_backoff_restart_delay: 200,
};

module.exports = {
  apps: [
    {
      ...common,
      name: 'stickerbot-daemon',
      script: 'packages/daemon/src/main.ts',
      // The daemon calls process.send('ready') once its bridge listens.
      wait_ready: true,
      listen_timeout: 30_000,
      // It closes WhatsApp sockets (without logging out) and the database within 10 s.
      kill_timeout: 12_000,
      max_memory_restart: '1G',
      out_file: path.join(logs, 'daemon.out.log'),
      error_file: path.join(logs, 'daemon.err.log'),
    },
    {
      ...common,
      name: 'stickerbot-worker',
      script: 'packages/worker/src/main.ts',
      // The worker finishes or abandons its event within its 5 s grace period.
      kill_timeout: 8_000,
      max_memory_restart: '768M',
      out_file: path.join(logs, 'worker.out.log'),
      error_file: path.join(logs, 'worker.err.log'),
    },
  ],
};
