/**
 * The daemon's composition root (`pnpm daemon`): environment → config → logger → daemon;
 * `process.send('ready')` once listening (pm2 `wait_ready`); SIGINT/SIGTERM stop it and exit 0.
 */
import { ConfigError, createLogger } from '@stickerbot/runtime';
import { createBaileysSocketFactory } from './sessions/baileys-socket-factory.js';
import { createSocketCacheRegistry } from './sessions/socket-caches.js';
import { loadConfig } from './config.js';
import { createDaemon } from './daemon.js';
import { processQrOutput } from './qr-output.js';
import { runDaemonProcess } from './run-daemon-process.js';

try {
  process.loadEnvFile();
} catch (err) {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}

let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`stickerbot daemon: ${err.message}\n`);
  process.exit(1);
}

const logger = createLogger({ service: 'stickerbot-daemon', level: config.logLevel, pretty: process.stdout.isTTY });
// One set of bounded caches for every session's sockets, also read by /metrics.
const socketCaches = createSocketCacheRegistry();
const daemon = createDaemon({ logger, socketFactory: createBaileysSocketFactory({ caches: socketCaches }), socketCaches, qrOutput: processQrOutput() }, config);

await runDaemonProcess(daemon, logger);
