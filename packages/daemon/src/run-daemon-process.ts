import { routeConsoleToLogger } from '@stickerbot/runtime';
import type { Logger } from 'pino';
import { SHUTDOWN_BUDGET_MS, type Daemon } from './daemon.js';

/**
 * Runs a daemon as this process's main job: makes every file it creates private to its
 * user (umask 077: SQLite files, the token, anything a library writes), routes the
 * libraries' `console.*` output into the logger (stdout stays JSON lines without key
 * material; see the runtime's route-console.ts), starts the daemon, tells pm2 `ready` once listening
 * (`wait_ready`), and on SIGINT/SIGTERM stops it and exits 0 (1 if it cannot start or stop).
 */
export async function runDaemonProcess(daemon: Daemon, logger: Logger): Promise<void> {
  process.umask(0o077);
  routeConsoleToLogger(logger);
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
}
