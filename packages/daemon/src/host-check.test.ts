import { describe, expect, it } from 'vitest';
import { createHostPolicy, hostOfHeader } from './host-check.js';

describe('hostOfHeader', () => {
  it('takes the host without port, brackets or trailing dot, lower-case', () => {
    expect(hostOfHeader('LocalHost:7420')).toBe('localhost');
    expect(hostOfHeader('bot.example.com.')).toBe('bot.example.com');
    expect(hostOfHeader('[::1]:7420')).toBe('::1');
    expect(hostOfHeader('127.0.0.1')).toBe('127.0.0.1');
  });

  it('gives nothing for a malformed header', () => {
    for (const header of ['', 'a:b:c', '[::1', '::1', 'host:port', 'a b']) expect(hostOfHeader(header)).toBeUndefined();
  });
});

describe('createHostPolicy', () => {
  it('accepts loopback names, the bind address and configured names on a specific bind', () => {
    const allowed = createHostPolicy({ bindHost: '192.168.1.5', allowedHosts: ['bot.example.com'] });
    for (const host of ['localhost', '127.0.0.1:1', '[::1]', '192.168.1.5:7420', 'bot.example.com:443']) expect(allowed(host)).toBe(true);
    for (const host of [undefined, 'evil.example', '10.0.0.1', 'localhost.evil.example', 'bot.example.com.evil.example']) expect(allowed(host)).toBe(false);
  });

  it('accepts any IP address, but no unconfigured name, on a wildcard bind', () => {
    for (const bindHost of ['0.0.0.0', '::']) {
      const allowed = createHostPolicy({ bindHost });
      expect(allowed('10.0.0.1:7420')).toBe(true);
      expect(allowed('[2001:db8::1]')).toBe(true);
      expect(allowed('evil.example')).toBe(false);
    }
  });
});
