import type { IncomingMessage } from 'node:http';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createHostPolicy, createHostRefusalLog, hostOfHeader } from './host-check.js';

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

describe('createHostRefusalLog', () => {
  it('logs the first refusal, then at most one line a minute with the count it left out', () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    let clock = 1_000_000;
    const refused = createHostRefusalLog(log, 60_000, () => clock);
    const request = (host: string) => ({ headers: { host }, url: '/metrics?x=1', socket: { remoteAddress: '127.0.0.1' } }) as unknown as IncomingMessage;
    refused(request('evil.example'));
    for (let i = 0; i < 500; i += 1) refused(request(`evil${i}.example`));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, host: 'evil.example', path: '/metrics', remote: '127.0.0.1', suppressed: 0 });
    clock += 60_000;
    refused(request('again.example'));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ host: 'again.example', suppressed: 500 });
  });
});
