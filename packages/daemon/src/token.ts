import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StickerbotError } from '@stickerbot/protocol';
import type { Logger } from 'pino';

/** Name of the generated token file inside the data folder. */
export const TOKEN_FILE = 'token';

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

function isExisting(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'EEXIST';
}

function readTokenFile(file: string, logger?: Pick<Logger, 'warn'>): string {
  const token = readFileSync(file, 'utf8').trim();
  if (token === '') {
    throw new StickerbotError('INTERNAL', `the token file ${file} is empty: delete it to have a new token generated, or set STICKERBOT_TOKEN`);
  }
  // POSIX permission bits only mean something off Windows.
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
    logger?.warn({ file, mode: (statSync(file).mode & 0o777).toString(8) }, 'the token file is accessible to other users: run chmod 600 on it');
  }
  return token;
}

/**
 * The bridge and admin token (DESIGN §3 Security). A configured token (`STICKERBOT_TOKEN`)
 * wins and touches no file. Otherwise `<dataDir>/token` is reused when it exists (a
 * worker on the same host reads it from there), with a warning if other users may read
 * it; when it does not, 32 random bytes (base64url, 43 characters) are written to it with
 * mode 0600. The file appears atomically (written beside it, then hard-linked into place,
 * which fails if another daemon won the race, whose token is then used), so a reader
 * never sees a half-written token. Pass a logger to hear about a generated token or a
 * token file with loose permissions.
 */
export function loadOrCreateToken(dataDir: string, configured?: string, logger?: Pick<Logger, 'warn' | 'info'>): string {
  if (configured !== undefined && configured !== '') return configured;
  const file = join(dataDir, TOKEN_FILE);
  try {
    return readTokenFile(file, logger);
  } catch (error) {
    if (error instanceof StickerbotError) throw error;
    if (!isMissing(error)) {
      throw new StickerbotError('INTERNAL', `cannot read the token file ${file}: ${String(error)}; fix or delete it, or set STICKERBOT_TOKEN`, { cause: error });
    }
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, `${token}\n`, { mode: 0o600, flag: 'wx' });
  try {
    chmodSync(temporary, 0o600);
    linkSync(temporary, file);
  } catch (error) {
    if (!isExisting(error)) throw error;
    return readTokenFile(file, logger);
  } finally {
    unlinkSync(temporary);
  }
  logger?.info({ file }, 'generated a bridge token (workers on this host read it from this file)');
  return token;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Compares a presented token with the expected one in constant time, whatever their
 * lengths: both are hashed to 32 bytes first, so neither the content nor the length of
 * the expected token leaks through timing (`timingSafeEqual` alone throws on different
 * lengths, and an early length check would leak the length).
 */
export function tokensEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}
