import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StickerbotError } from '@stickerbot/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateToken, tokensEqual } from './token.js';

let dir: string;
const warnings: unknown[][] = [];
const infos: unknown[][] = [];
const logger = {
  warn: (...args: unknown[]) => void warnings.push(args),
  info: (...args: unknown[]) => void infos.push(args),
} as unknown as Parameters<typeof loadOrCreateToken>[2];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stickerbot-token-'));
  warnings.length = 0;
  infos.length = 0;
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const posix = process.platform !== 'win32';

describe('loadOrCreateToken', () => {
  it('uses a configured token and writes no file', () => {
    expect(loadOrCreateToken(join(dir, 'data'), 'configured-secret', logger)).toBe('configured-secret');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('generates 32 random bytes into <dataDir>/token with mode 0600 and reuses them on the next start', () => {
    const dataDir = join(dir, 'data');
    const first = loadOrCreateToken(dataDir, undefined, logger);
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(first, 'base64url')).toHaveLength(32);
    expect(readFileSync(join(dataDir, 'token'), 'utf8').trim()).toBe(first);
    if (posix) expect(statSync(join(dataDir, 'token')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dataDir)).toEqual(['token']);
    expect(infos).toHaveLength(1);

    expect(loadOrCreateToken(dataDir, '', logger)).toBe(first);
    expect(warnings).toEqual([]);
  });

  it('generates a different token in another data folder', () => {
    expect(loadOrCreateToken(join(dir, 'a'))).not.toBe(loadOrCreateToken(join(dir, 'b')));
  });

  it.runIf(posix)('warns when an existing token file is readable by other users', () => {
    writeFileSync(join(dir, 'token'), 'operator-chosen\n');
    chmodSync(join(dir, 'token'), 0o644);
    expect(loadOrCreateToken(dir, undefined, logger)).toBe('operator-chosen');
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.[1])).toMatch(/chmod 600/);
  });

  it('refuses a token path that cannot be read with a typed error', () => {
    mkdirSync(join(dir, 'token'));
    expect(() => loadOrCreateToken(dir)).toThrow(StickerbotError);
    expect(() => loadOrCreateToken(dir)).toThrow(/cannot read the token file/);
  });

  it('refuses an empty token file with a clear error', () => {
    writeFileSync(join(dir, 'token'), '  \n', { mode: 0o600 });
    expect(() => loadOrCreateToken(dir)).toThrow(/token file .* is empty/);
  });
});

describe('tokensEqual', () => {
  it('accepts the same token and refuses a different one of any length', () => {
    const token = 'a'.repeat(43);
    expect(tokensEqual(token, `${token}`)).toBe(true);
    expect(tokensEqual(token, 'b'.repeat(43))).toBe(false);
    expect(tokensEqual(token, token.slice(0, 42))).toBe(false);
    expect(tokensEqual(token, `${token}a`)).toBe(false);
    expect(tokensEqual('', token)).toBe(false);
    expect(tokensEqual('', '')).toBe(true);
    expect(tokensEqual('ä', 'a')).toBe(false);
  });
});
