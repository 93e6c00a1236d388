import { pino, type Logger } from 'pino';

/** The root logger of the worker process; modules take children (`log.child({ module })`). */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      name: 'worker',
      level,
      redact: { paths: ['token', '*.token', 'auth.token', 'config.token'], censor: '[redacted]' },
    },
    destination,
  );
}
