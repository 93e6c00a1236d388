/**
 * The arguments of `pnpm token` (`--sub NAME --sessions a,b --role admin|operator|viewer
 * [--ttl 12h]`), parsed into a {@link DashboardTokenRequest}. Pure: the CLI reads the
 * secret and prints; this only judges the arguments.
 */
import { SESSION_ID_PATTERN, StickerbotError } from '@stickerbot/protocol';
import { parseArgs } from 'node:util';
import type { DashboardRole } from '../bridge/auth.js';
import { ALL_SESSIONS, type DashboardTokenRequest } from './jwt.js';

/** The lifetime of a token when `--ttl` is not given. */
export const DEFAULT_TOKEN_TTL = '12h';
/** The longest lifetime `--ttl` accepts (one year). */
export const MAX_TOKEN_TTL_SECONDS = 365 * 24 * 3600;

const ROLES: readonly DashboardRole[] = ['admin', 'operator', 'viewer'];
const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** The usage line printed on bad arguments. */
export const TOKEN_USAGE =
  'usage: pnpm token --sub NAME --sessions a,b|* --role admin|operator|viewer [--ttl 12h]   (secret: STICKERBOT_JWT_SECRET)';

/** `90s`, `30m`, `12h`, `7d` → seconds. Throws `INVALID_ARGS`. */
export function parseTtl(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * (UNITS[match[2] ?? ''] ?? 0) : 0;
  if (seconds <= 0 || seconds > MAX_TOKEN_TTL_SECONDS) {
    throw new StickerbotError('INVALID_ARGS', `--ttl must look like 90s, 30m, 12h or 7d, at most 365d (got ${JSON.stringify(text)})`);
  }
  return seconds;
}

/** Parses the CLI arguments. Throws `INVALID_ARGS` naming the bad option. */
export function parseTokenArgs(argv: readonly string[]): Omit<DashboardTokenRequest, 'now'> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        sub: { type: 'string' },
        sessions: { type: 'string' },
        role: { type: 'string' },
        ttl: { type: 'string', default: DEFAULT_TOKEN_TTL },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new StickerbotError('INVALID_ARGS', (err as Error).message, { cause: err });
  }
  const problems: string[] = [];
  const subject = values.sub?.trim() ?? '';
  if (subject === '' || subject.length > 128) problems.push('--sub NAME is required (up to 128 characters)');
  const role = values.role as DashboardRole | undefined;
  if (role === undefined || !ROLES.includes(role)) problems.push(`--role must be one of ${ROLES.join(', ')}`);
  const rawSessions = values.sessions?.trim() ?? '';
  const ids = rawSessions.split(',').map((id) => id.trim()).filter((id) => id !== '');
  const sessions = rawSessions === ALL_SESSIONS ? ALL_SESSIONS : ids;
  if (sessions !== ALL_SESSIONS) {
    const bad = ids.filter((id) => !SESSION_ID_PATTERN.test(id));
    if (ids.length === 0) problems.push('--sessions needs session ids (a,b) or * for all');
    if (bad.length > 0) problems.push(`--sessions: ${bad.join(', ')} do not match [a-z0-9_-]{1,64}`);
  }
  let ttlSeconds = 0;
  try {
    ttlSeconds = parseTtl(values.ttl);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length > 0) throw new StickerbotError('INVALID_ARGS', problems.join('; '));
  return { subject, role: role as DashboardRole, sessions, ttlSeconds };
}
