/**
 * Libraries print with `console.*`, around pino and its redaction: libsignal prints a whole
 * session record (`privKey`, `rootKey`, chain keys) with `console.info("Closing session:",
 * session)` whenever a contact's session is replaced, and `console.warn` / `console.error`
 * other records and failures; Baileys, protobufjs and socket.io have a few more (the daemon
 * loads all of them, the emulator libsignal). Under pm2 that text lands in the log files as
 * multi-line non-JSON, under `pnpm dev` between the records. Each process root (daemon,
 * worker, emulator) routes every console method into its logger instead, each argument
 * reduced to a short safe string: objects by their class name only (never a dump), long
 * base64 or hex runs in strings censored.
 */
import type { Logger } from 'pino';

type Level = 'trace' | 'debug' | 'warn';

/** The console methods that print, and the level their text is logged at. */
const ROUTED: Readonly<Record<string, Level>> = {
  log: 'debug',
  info: 'debug',
  debug: 'debug',
  dir: 'debug',
  dirxml: 'debug',
  table: 'debug',
  group: 'debug',
  groupCollapsed: 'debug',
  count: 'debug',
  timeLog: 'debug',
  timeEnd: 'debug',
  trace: 'trace',
  warn: 'warn',
  error: 'warn',
  assert: 'warn',
};

/** Longest text one console call becomes. */
const MAX_TEXT = 500;
// Key material printed as text: 32 bytes are 43+ base64 or 64 hex characters.
const KEY_LIKE = /[A-Za-z0-9+/_-]{40,}={0,2}|(?:[0-9a-fA-F]{2}[ :]?){24,}/g;

function censor(text: string): string {
  return text.replace(KEY_LIKE, '[censored]');
}

/** One console argument as a string that cannot carry a dumped object. */
export function safeConsoleArgument(value: unknown): string {
  if (typeof value === 'string') return censor(value);
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' ? '[function]' : censor(String(value));
  }
  if (value instanceof Error) return censor(`${value.name}: ${value.message}`);
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return `[${typeof name === 'string' && name !== '' ? name : 'object'}]`;
}

/** The text of one console call: its arguments made safe, joined by spaces, capped. */
export function safeConsoleText(args: readonly unknown[]): string {
  const text = args.map(safeConsoleArgument).join(' ');
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

/**
 * Replaces the printing methods of `target` (the global console by default) with ones that
 * log through `logger` (`module: 'console'`): `log`/`info`/`debug` and the like at debug,
 * `trace` at trace, `warn`/`error`/a failed `assert` at warn. Returns a function that puts
 * the original methods back. Only a process root calls it: the console is process-wide.
 */
export function routeConsoleToLogger(logger: Logger, target: Console = console): () => void {
  const log = logger.child({ module: 'console' });
  const methods = target as unknown as Record<string, unknown>;
  const originals = new Map<string, unknown>();
  for (const [method, level] of Object.entries(ROUTED)) {
    if (typeof methods[method] !== 'function') continue;
    originals.set(method, methods[method]);
    methods[method] =
      method === 'assert'
        ? (condition?: unknown, ...args: unknown[]) => {
            if (!condition) log[level](safeConsoleText(['Assertion failed', ...args]));
          }
        : (...args: unknown[]) => log[level](safeConsoleText(args));
  }
  return () => {
    for (const [method, original] of originals) methods[method] = original;
  };
}
