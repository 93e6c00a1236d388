/**
 * The daemon's composition root (`pnpm daemon`): environment → config → logger → daemon;
 * `process.send('ready')` once listening (pm2 `wait_ready`); SIGINT/SIGTERM stop it and exit 0.
 */
import { createBaileysSocketFactory } from './baileys-socket-factory.js';
import { ConfigError, loadConfig } from './config.js';
import { SHUTDOWN_BUDGET_MS, createDaemon } from './daemon.js';
import { createLogger } from './logger.js';

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

const logger = createLogger({ level: config.logLevel, pretty: process.stdout.isTTY });
const daemon = createDaemon({ logger, socketFactory: createBaileysSocketFactory() }, config);

const shutdown = (signal: NodeJS.Signals): void => {
  logger.info({ signal }, 'shutting down');
  // stop() keeps to SHUTDOWN_BUDGET_MS; this is the belt to its braces.
  setTimeout(() => process.exit(1), SHUTDOWN_BUDGET_MS + 2000).unref();
  // A repeated signal gets the same promise: the shutdown in progress is not cut short.
  daemon.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.fatal({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);

try {
  await daemon.start();
  process.send?.('ready');
} catch (err) {
  logger.fatal({ err }, 'the daemon could not start');
  process.exit(1);
}
