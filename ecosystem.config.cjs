// pm2 ecosystem: `pnpm exec pm2 start ecosystem.config.cjs` (pm2 is a dev dependency of
// the repository: nothing global is needed).
//
// Both apps run the TypeScript source from the repository root, so there is no build step
// to forget and no dist/ that can drift from src/: scripts/run.mjs bundles each app's source
// with esbuild (cached, rebuilt when a source file changed) and runs it on plain Node,
// without tsx's loader (half the start time, 50 MB less memory). Both read the same `.env` in the repository root (each process loads it itself;
// variables set in the environment of `pm2 start` win). The daemon is never restarted by
// a worker reload: `pnpm exec pm2 reload stickerbot-worker` touches the worker only.
/* eslint-disable @typescript-eslint/no-require-imports -- pm2 loads ecosystem files as CommonJS */
const path = require('node:path');
const fs = require('node:fs');

const root = __dirname;

/** The `.env` values, read here only to find the data folder for the log files. */
function readDotEnv(file) {
  const values = {};
  if (!fs.existsSync(file)) return values;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) values[match[1]] = match[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return values;
}

const fileEnv = readDotEnv(path.join(root, '.env'));
const dataDir = path.resolve(root, process.env.STICKERBOT_DATA_DIR || fileEnv.STICKERBOT_DATA_DIR || 'data');
const logs = path.join(dataDir, 'logs');
const logFile = (name) => path.join(logs, name);

// pm2's own daemon writes the log files, with its umask (typically 0644), in a folder it
// creates 0755. The data folder holds the WhatsApp credentials and the logs may name
// contacts: the folder and the log files are created here first, private to this user
// (pm2 appends to an existing file and keeps its mode; the daemon tightens anything
// looser at start).
if (process.platform !== 'win32') {
  fs.mkdirSync(logs, { recursive: true, mode: 0o700 });
  for (const name of ['daemon.out.log', 'daemon.err.log', 'worker.out.log', 'worker.err.log']) {
    fs.closeSync(fs.openSync(logFile(name), 'a', 0o600));
    fs.chmodSync(logFile(name), 0o600);
  }
}

const common = {
  cwd: root,
  exec_mode: 'fork',
  instances: 1,
  interpreter: 'node',
  script: 'scripts/run.mjs',
  watch: false,
  autorestart: true,
  merge_logs: true,
  // No pm2 timestamp prefix: the log files stay pino JSON lines (pino has its own `time`),
  // readable with `pnpm exec pino-pretty < data/logs/daemon.out.log`, and the login QR the
  // daemon prints as text on stderr (daemon.err.log) stays whole lines that scan from `pm2 logs`.
  time: false,
  // A process that keeps crashing at start is retried with a growing delay (up to 15 s).
  exp_backoff_restart_delay: 200,
  env: { NODE_ENV: 'production' },
};

module.exports = {
  apps: [
    {
      ...common,
      name: 'stickerbot-daemon',
      args: ['daemon'],
      // main.ts calls process.send('ready') once the bridge listens and the sessions started.
      wait_ready: true,
      listen_timeout: 30_000,
      // stop() closes the WhatsApp sockets (without logging out), the bridge and SQLite
      // within its 10 s budget; main.ts exits at 12 s at the latest. pm2 waits 15 s.
      kill_timeout: 15_000,
      // A safety net for a leak, far above what 100 sessions hold under traffic (315-410 MB in
      // `pnpm bench:sessions --real 100`; 1.1-1.5 GB before issue #16's seventh round).
      max_memory_restart: '2G',
      out_file: logFile('daemon.out.log'),
      error_file: logFile('daemon.err.log'),
    },
    {
      ...common,
      name: 'stickerbot-worker',
      args: ['worker'],
      // The worker finishes or abandons the event in hand within its grace period
      // (STICKERBOT_SHUTDOWN_GRACE_MS, 5 s) and exits by 10 s at the latest (grace + 5 s).
      kill_timeout: 11_000,
      max_memory_restart: '768M',
      out_file: logFile('worker.out.log'),
      error_file: logFile('worker.err.log'),
    },
  ],
};
