/**
 * One terminal line per pino record: `12:03:04.512 INFO  [bridge] connected to the daemon
 * url=http://127.0.0.1:7420 group=bot`. Time (local), level, the record's `module` and
 * `sessionId`, the message, then every other field as `key=value`. Whatever a field holds,
 * the line stays one line: newlines and control characters are escaped, objects are compact
 * JSON cut at {@link MAX_VALUE_CHARS}, an error is its type, message and first stack frame.
 * Used by a logger created with `pretty: true` and by `pnpm dev` for every child's output;
 * pino-pretty's `singleLine` mode still prints an error's stack and a message's newlines on
 * lines of their own.
 */

/** Options of {@link formatLogRecord}. */
export interface LogFormatOptions {
  /** ANSI colours (a terminal that shows them). Default false. */
  colour?: boolean;
}

/** Longest a field's value gets on the line (characters) before it is cut with `…`. */
export const MAX_VALUE_CHARS = 200;

const LEVELS: Readonly<Record<number, { label: string; colour: string }>> = {
  10: { label: 'TRACE', colour: '90' },
  20: { label: 'DEBUG', colour: '34' },
  30: { label: 'INFO', colour: '32' },
  40: { label: 'WARN', colour: '33' },
  50: { label: 'ERROR', colour: '31' },
  60: { label: 'FATAL', colour: '35' },
};

/** Fields shown elsewhere on the line, or the same on every line of a process. */
const SHOWN_APART = new Set(['level', 'time', 'msg', 'module', 'sessionId', 'pid', 'hostname', 'service', 'name', 'v']);

type Fields = Record<string, unknown>;

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Escapes what would break the line or drive the terminal: newlines, tabs, escape sequences. */
function oneLine(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => (c === '\n' ? '\\n' : c === '\t' ? ' ' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

function cut(text: string): string {
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}

function clock(time: unknown): string {
  const date = typeof time === 'number' || typeof time === 'string' ? new Date(time) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) return '--:--:--.---';
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/** An error as pino's serializer writes it: `{ type, message, stack, code? }`. */
function errorText(value: Fields): string | undefined {
  if (typeof value.message !== 'string' || (typeof value.stack !== 'string' && typeof value.type !== 'string')) return undefined;
  const type = typeof value.type === 'string' ? value.type : 'Error';
  const code = typeof value.code === 'string' || typeof value.code === 'number' ? ` [${value.code}]` : '';
  const frame = typeof value.stack === 'string' ? /^\s*at (.+)$/m.exec(value.stack)?.[1] : undefined;
  return `${type}${code}: ${value.message}${frame === undefined ? '' : ` (at ${frame})`}`;
}

function valueText(value: unknown): string {
  if (typeof value === 'string') return /^[\w.:/@+-]+$/.test(value) ? cut(value) : cut(JSON.stringify(value));
  if (typeof value !== 'object' || value === null) return String(value);
  const error = isFields(value) ? errorText(value) : undefined;
  if (error !== undefined) return JSON.stringify(cut(error));
  return cut(JSON.stringify(value));
}

/**
 * One pino JSON record (a line of a process's stdout) as one line of text without a
 * newline; `undefined` when the line is not a pino record (not JSON, or no numeric `level`).
 */
export function formatLogRecord(line: string, options: LogFormatOptions = {}): string | undefined {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isFields(record) || typeof record.level !== 'number') return undefined;
  const paint = (colour: string, text: string) => (options.colour === true ? `\x1b[${colour}m${text}\x1b[0m` : text);
  const level = LEVELS[record.level] ?? { label: `L${record.level}`, colour: '0' };
  const parts = [paint('2', clock(record.time)), paint(level.colour, level.label.padEnd(5))];
  const where = [record.module, record.sessionId].filter((v) => typeof v === 'string' && v !== '').join(' ');
  if (where !== '') parts.push(paint('36', `[${oneLine(where)}]`));
  if (typeof record.msg === 'string' && record.msg !== '') parts.push(oneLine(record.msg));
  for (const [key, value] of Object.entries(record)) {
    if (SHOWN_APART.has(key) || value === undefined) continue;
    parts.push(`${paint('2', `${oneLine(key)}=`)}${oneLine(valueText(value))}`);
  }
  return parts.join(' ');
}
