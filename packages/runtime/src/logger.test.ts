import { describe, expect, it } from 'vitest';
import { captureStream as capture } from '../test/capture-stream.js';
import { REDACTED_PATHS, createLogger } from './logger.js';

type Fields = Record<string, unknown>;

/** An object holding `value` at a redaction path, `*` standing for any key. */
function objectAt(path: string, value: string): Fields {
  return path
    .split('.')
    .reverse()
    .reduce<unknown>((inner, key) => ({ [key === '*' ? 'anything' : key]: inner }), value) as Fields;
}

function valueAt(record: Fields, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Fields | undefined)?.[key === '*' ? 'anything' : key], record);
}

describe('createLogger', () => {
  it('redacts tokens and creds in the root logger and every child', () => {
    const out = capture();
    const log = createLogger({ service: 'stickerbot-daemon', level: 'info', destination: out.stream });
    log.child({ module: 'bridge' }).info({ auth: { token: 'top-secret-1' }, token: 'top-secret-2' }, 'handshake');
    log.child({ sessionId: 'main' }).info({ state: { creds: { noiseKey: 'top-secret-3' } } }, 'login');
    const text = out.text();
    expect(text).not.toContain('top-secret');
    const lines = text.trim().split('\n').map((line) => JSON.parse(line) as Fields);
    expect(lines[0]).toMatchObject({ service: 'stickerbot-daemon', module: 'bridge', msg: 'handshake', token: '[redacted]' });
    expect(lines[1]).toMatchObject({ sessionId: 'main', state: { creds: '[redacted]' } });
  });

  it('redacts every path of REDACTED_PATHS, the daemon’s and the worker’s alike', () => {
    const out = capture();
    const log = createLogger({ service: 'stickerbot-worker', level: 'info', destination: out.stream }).child({ module: 'any' });
    REDACTED_PATHS.forEach((path, index) => log.info(objectAt(path, `top-secret-${index}`), path));
    const text = out.text();
    expect(text).not.toContain('top-secret');
    const records = text.trim().split('\n').map((line) => JSON.parse(line) as Fields);
    expect(records.map((record) => record.msg)).toEqual([...REDACTED_PATHS]);
    for (const record of records) expect(valueAt(record, String(record.msg))).toBe('[redacted]');
    expect(REDACTED_PATHS).toEqual(expect.arrayContaining(['config.token', 'handshake.auth.token', '*.jwtSecret', 'headers.authorization', '*.keys', 'noiseKey']));
  });

  it('writes one human-readable line per record when pretty', () => {
    const out = capture();
    const log = createLogger({ service: 'stickerbot-daemon', level: 'info', pretty: true, destination: out.stream });
    log.info({ token: 'top-secret' }, 'listening');
    log.warn({ err: new Error('two\nlines') }, 'failed:\nretrying');
    const lines = out.text().trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('listening');
    expect(lines[1]).toContain('failed:\\nretrying');
    expect(out.text()).not.toContain('top-secret');
    expect(() => JSON.parse(lines[0] ?? '') as unknown).toThrow();
  });

  it('honours the level', () => {
    const out = capture();
    const log = createLogger({ service: 'stickerbot-daemon', level: 'warn', destination: out.stream });
    log.info('hidden');
    log.warn('shown');
    expect(out.text()).not.toContain('hidden');
    expect(out.text()).toContain('shown');
  });
});
