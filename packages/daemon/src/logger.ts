/**
 * The daemon's one root pino logger. Secrets are redacted once here, in the root options,
 * so no child logger (per module, per session) can leak them.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import type { LogLevel } from './config.js';

/** Paths whose values never reach a log line (tokens, JWT secrets, Baileys creds and keys). */
export const REDACTED_PATHS: readonly string[] = [
  'token',
  '*.token',
  'auth.token',
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
  level: LogLevel;
  /** Human-readable, coloured lines (for a terminal) instead of JSON. */
  pretty?: boolean;
  /** Where lines go (default: stdout). Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

/** Creates the root logger; give each module `log.child({ module })`, each session `log.child({ sessionId })`. */
export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    base: { pid: process.pid, service: 'stickerbot-daemon' },
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.pretty === true) {
    const pretty = PinoPretty({
      colorize: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service',
      destination: options.destination ?? 1,
      sync: true,
    });
    return pino(base, pretty);
  }
  return options.destination === undefined ? pino(base) : pino(base, options.destination);
}

export type { Logger } from 'pino';
