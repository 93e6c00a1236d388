/**
 * The arguments and environment of `pnpm link:session <session> [--phone NUMBER] [--create]`,
 * judged into a {@link LinkRequest} and a {@link LinkTarget}. Pure: the CLI reads files and
 * talks to the daemon; this only decides what it was asked and where the daemon is.
 */
import { SESSION_ID_PATTERN, StickerbotError, phoneSchema } from '@stickerbot/protocol';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { reachableHost } from '../login-help.js';
import { TOKEN_FILE } from '../token.js';

/** The usage lines printed on bad arguments. */
export const LINK_USAGE = [
  'usage: pnpm link:session <session> [--phone NUMBER] [--create]',
  '  prints the session\'s login QR (again on every rotation) until a phone links it;',
  '  --phone NUMBER (country code first) prints a pairing code to type on that phone instead;',
  '  --create registers the session first if the daemon does not know it.',
  '  The daemon: STICKERBOT_BRIDGE_URL, else STICKERBOT_HOST/STICKERBOT_PORT; the admin token:',
  '  STICKERBOT_TOKEN, else <STICKERBOT_DATA_DIR>/token (both also read from .env).',
].join('\n');

/**
 * Exit codes of `pnpm link:session` (documented in the daemon README): scripts can tell
 * "fix your arguments" from "start the daemon" from "fix the token".
 */
export const LINK_EXIT = {
  /** The session is linked (now, or it already was). */
  linked: 0,
  /** Anything else: the session ended in `LOGGED_OUT`/`ERROR`/`STOPPED`, a refused command, a lost connection. */
  failed: 1,
  /** Bad arguments or environment. */
  usage: 2,
  /** No daemon answers at the address. */
  unreachable: 3,
  /** The daemon refused the token (or the token is not an admin's). */
  unauthorized: 4,
  /** The daemon has no such session (and `--create` was not given). */
  unknownSession: 5,
} as const;

/** What the operator asked for. */
export interface LinkRequest {
  readonly sessionId: string;
  /** Digits only, country code first: ask for a pairing code instead of showing the QR. */
  readonly phone: string | undefined;
  /** Register the session when the daemon does not know it. */
  readonly create: boolean;
}

/** Where the daemon is and how to prove we may administer it. */
export interface LinkTarget {
  /** The daemon's base URL, `http://127.0.0.1:7420`. */
  readonly url: string;
  /** The admin token, when `STICKERBOT_TOKEN` gives it. */
  readonly token: string | undefined;
  /** The file to read the token from otherwise. */
  readonly tokenFile: string;
}

/** Parses the CLI arguments. Throws `INVALID_ARGS` naming the problem. */
export function parseLinkArgs(argv: readonly string[]): LinkRequest {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { phone: { type: 'string' }, create: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    throw new StickerbotError('INVALID_ARGS', (err as Error).message, { cause: err });
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new StickerbotError('INVALID_ARGS', 'name exactly one session (e.g. default)');
  const sessionId = positionals[0] ?? '';
  if (!SESSION_ID_PATTERN.test(sessionId)) throw new StickerbotError('INVALID_ARGS', `invalid session id "${sessionId}": must match [a-z0-9_-]{1,64}`);
  let phone: string | undefined;
  if (values.phone !== undefined) {
    // People paste numbers as they are written: +49 151 234-567.
    phone = values.phone.replace(/[\s()+.-]/g, '');
    if (!phoneSchema.safeParse(phone).success) {
      throw new StickerbotError('INVALID_ARGS', `--phone must be the account's number, country code first, 6-20 digits (got ${JSON.stringify(values.phone)})`);
    }
  }
  return { sessionId, phone, create: values.create };
}

function blank(value: string | undefined): boolean {
  return value === undefined || value.trim() === '';
}

/**
 * Where the daemon listens, from the same variables the daemon and worker read:
 * `STICKERBOT_BRIDGE_URL` when set, else `STICKERBOT_HOST` (a wildcard bind is reached on
 * loopback) and `STICKERBOT_PORT`. Throws `INVALID_ARGS` for an unusable URL.
 */
export function resolveLinkTarget(env: Readonly<Record<string, string | undefined>>): LinkTarget {
  let url: string;
  if (!blank(env.STICKERBOT_BRIDGE_URL)) {
    url = (env.STICKERBOT_BRIDGE_URL ?? '').trim();
  } else {
    const host = blank(env.STICKERBOT_HOST) ? '127.0.0.1' : (env.STICKERBOT_HOST ?? '').trim();
    const port = blank(env.STICKERBOT_PORT) ? '7420' : (env.STICKERBOT_PORT ?? '').trim();
    url = `http://${reachableHost(host)}:${port}`;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new StickerbotError('INVALID_ARGS', `the daemon address ${JSON.stringify(url)} is not a URL`, { cause: err });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new StickerbotError('INVALID_ARGS', `the daemon address ${JSON.stringify(url)} must be http:// or https://`);
  }
  const dataDir = blank(env.STICKERBOT_DATA_DIR) ? './data' : (env.STICKERBOT_DATA_DIR ?? '').trim();
  return {
    url: parsed.origin,
    token: blank(env.STICKERBOT_TOKEN) ? undefined : env.STICKERBOT_TOKEN?.trim(),
    tokenFile: join(dataDir, TOKEN_FILE),
  };
}
