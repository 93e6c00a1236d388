import { describe, expect, it } from 'vitest';
import { captureStream as capture } from '../test/capture-stream.js';
import { createLogger } from './logger.js';

describe('createLogger', () => {
  it('redacts tokens and creds in the root logger and every child', () => {
    const out = capture();
    const log = createLogger({ level: 'info', destination: out.stream });
    log.child({ module: 'bridge' }).info({ auth: { token: 'top-secret-1' }, token: 'top-secret-2' }, 'handshake');
    log.child({ sessionId: 'main' }).info({ state: { creds: { noiseKey: 'top-secret-3' } } }, 'login');
    const text = out.text();
    expect(text).not.toContain('top-secret');
    const lines = text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ module: 'bridge', msg: 'handshake', token: '[redacted]' });
    expect(lines[1]).toMatchObject({ sessionId: 'main', state: { creds: '[redacted]' } });
  });

  it('writes human-readable lines when pretty', () => {
    const out = capture();
    const log = createLogger({ level: 'info', pretty: true, destination: out.stream });
    log.info({ token: 'top-secret' }, 'listening');
    expect(out.text()).toContain('listening');
    expect(out.text()).not.toContain('top-secret');
    expect(() => JSON.parse(out.text()) as unknown).toThrow();
  });

  it('honours the level', () => {
    const out = capture();
    const log = createLogger({ level: 'warn', destination: out.stream });
    log.info('hidden');
    log.warn('shown');
    expect(out.text()).not.toContain('hidden');
    expect(out.text()).toContain('shown');
  });
});
