import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, checkProtocolVersion } from './version.js';

describe('checkProtocolVersion', () => {
  it('accepts the same version', () => {
    expect(checkProtocolVersion(PROTOCOL_VERSION)).toEqual({ ok: true });
  });

  it('refuses an older peer and says to update it', () => {
    const check = checkProtocolVersion(PROTOCOL_VERSION - 1);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.error.code).toBe('PROTOCOL_MISMATCH');
    expect(check.error.message).toContain('peer is older');
  });

  it('refuses a newer peer and says to update this side', () => {
    const check = checkProtocolVersion(PROTOCOL_VERSION + 1);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.error.message).toContain('update this side');
  });

  it('refuses a missing or non-integer version', () => {
    for (const value of [undefined, '1', 1.5, null]) {
      const check = checkProtocolVersion(value);
      expect(check.ok).toBe(false);
      if (!check.ok) expect(check.error.message).toContain('no protocol version');
    }
  });
});
