import { describe, expect, it } from 'vitest';
import { parseTokenArgs, parseTtl } from './token-request.js';

describe('pnpm token arguments', () => {
  it('reads subject, sessions, role and lifetime', () => {
    expect(parseTokenArgs(['--sub', 'alice', '--sessions', 'shop, home', '--role', 'operator', '--ttl', '30m'])).toEqual({
      subject: 'alice',
      role: 'operator',
      sessions: ['shop', 'home'],
      ttlSeconds: 1800,
    });
  });

  it('defaults to a 12 hour lifetime and reads * as every session', () => {
    expect(parseTokenArgs(['--sub', 'root', '--sessions', '*', '--role', 'admin'])).toMatchObject({ sessions: '*', ttlSeconds: 12 * 3600 });
  });

  it('names every bad option at once', () => {
    expect(() => parseTokenArgs(['--sessions', 'Shop', '--role', 'boss', '--ttl', '3 weeks'])).toThrow(
      /--sub NAME is required.*--role must be one of.*--sessions: Shop.*--ttl must look like/,
    );
  });

  it('refuses unknown options and a missing sessions claim', () => {
    expect(() => parseTokenArgs(['--sub', 'a', '--role', 'viewer', '--sessions', 'a', '--admin'])).toThrow(/Unknown option/);
    expect(() => parseTokenArgs(['--sub', 'a', '--role', 'viewer'])).toThrow(/--sessions needs session ids/);
  });

  it('parses lifetimes in seconds, minutes, hours and days within a year', () => {
    expect([parseTtl('90s'), parseTtl('2h'), parseTtl('7d')]).toEqual([90, 7200, 604_800]);
    expect(() => parseTtl('0h')).toThrow();
    expect(() => parseTtl('400d')).toThrow();
  });
});
