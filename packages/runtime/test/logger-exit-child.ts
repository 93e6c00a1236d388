/**
 * A process that logs through createLogger, as the daemon and the worker do: one record once
 * it runs, and, when a line arrives on stdin (by then nobody reads its stdout any more), two
 * records and `process.exit(0)` in the same turn, as the daemon's shutdown ends.
 */
import { createLogger } from '../src/logger.js';

const log = createLogger({ service: 'stickerbot-test', level: 'info', pretty: process.env.PRETTY === '1' });
log.info('running');
process.stdin.once('data', () => {
  log.info('shutting down');
  log.info('stopped');
  process.exit(0);
});
