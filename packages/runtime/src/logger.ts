/**
 * The one root pino logger of each stickerbot process (daemon, worker). Secrets are
 * redacted once here, in the root options, so no child logger (per module, per session)
 * can leak them.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { formatLogRecord } from './log-format.js';

/** The pino levels `LOG_LEVEL` accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Paths whose values never reach a log line: bridge and admin tokens (a handshake's
 * `auth.token`, the worker's `config.token`), JWT secrets, authorization headers, Baileys
 * creds and Signal keys.
 */
export const REDACTED_PATHS: readonly string[] = [
  'token',
  '*.token',
  'auth.token',
  'config.token',
  'handshake.auth.token',
  'jwtSecret',
  '*.jwtSecret',
  'secret',
  '*.secret',
  'authorization',
  'headers.authorization',
  '*.headers.authorization',
  'creds',
  '*.creds',
  'keys',
  '*.keys',
  'noiseKey',
  'signedIdentityKey',
  'signedPreKey',
  'advSecretKey',
];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Which process writes (`stickerbot-daemon`, `stickerbot-worker`): the `service` field of every record. */
  service: string;
  level: LogLevel;
  /** One coloured, human-readable line per record (for a terminal) instead of JSON; see log-format.ts. */
  pretty?: boolean;
  /** Where lines go (default: stdout). Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

/**
 * Where a process's log records go when no destination is given: standard output (fd 1) or
 * error (fd 2), written synchronously, as Node itself writes to a pipe on Linux. A record is
 * out before the next statement runs, so the lines before a crash or an exit are not lost,
 * and a reader that went away (the dev script killed, pm2 gone) ends logging at the first
 * write that fails with EPIPE. pino's default, an asynchronous stdout, flushes at exit with
 * sonic-boom 4's `flushSync`, which retries a broken pipe every 100 ms forever: a `pnpm dev`
 * daemon whose parent was killed hung there, past every timer (test/logger-exit.test.ts).
 */
export function stdioLogDestination(fd: 1 | 2): DestinationStream {
  return pino.destination({ dest: fd, sync: true });
}

/** Creates the root logger (to stdout unless `destination` says otherwise); give each module `log.child({ module })`, each session `log.child({ sessionId })`. */
export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    base: { pid: process.pid, service: options.service },
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const destination = options.destination ?? stdioLogDestination(1);
  if (options.pretty !== true) return pino(base, destination);
  return pino(base, {
    write(record: string) {
      destination.write(`${formatLogRecord(record, { colour: true }) ?? record.trimEnd()}\n`);
    },
  });
}

export type { Logger } from 'pino';
