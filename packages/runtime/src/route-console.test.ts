import { Console } from 'node:console';
import { describe, expect, it } from 'vitest';
import { captureStream as capture } from '../test/capture-stream.js';
import { createLogger } from './logger.js';
import { routeConsoleToLogger, safeConsoleText } from './route-console.js';

// The shape libsignal prints when it closes a session (SessionEntry with Buffers).
class SessionEntry {
  currentRatchet = { rootKey: Buffer.alloc(32, 7), ephemeralKeyPair: { privKey: Buffer.alloc(32, 9), pubKey: Buffer.alloc(33, 5) } };
}

describe('routeConsoleToLogger', () => {
  it('turns console calls into JSON log lines that name objects by class and never dump them', () => {
    const logged = capture();
    const printed = capture();
    const target = new Console(printed.stream, printed.stream);
    const restore = routeConsoleToLogger(createLogger({ service: 'stickerbot-daemon', level: 'debug', destination: logged.stream }), target);
    target.info('Closing session:', new SessionEntry());
    target.warn('Session already closed', { privKey: Buffer.alloc(32, 1) });
    target.error('Session error:Error: Bad MAC', new Error('Bad MAC'));
    target.log(`key ${Buffer.alloc(32, 3).toString('base64')} and ${Buffer.alloc(32, 4).toString('hex')}`);
    target.assert(true, 'not printed');
    restore();
    target.info('after restore');

    expect(printed.text()).toBe('after restore\n');
    const lines = logged.text().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map(({ level, module, msg }) => ({ level, module, msg }))).toEqual([
      { level: 20, module: 'console', msg: 'Closing session: [SessionEntry]' },
      { level: 40, module: 'console', msg: 'Session already closed [Object]' },
      { level: 40, module: 'console', msg: 'Session error:Error: Bad MAC Error: Bad MAC' },
      { level: 20, module: 'console', msg: 'key [censored] and [censored]' },
    ]);
    expect(logged.text()).not.toMatch(/privKey|rootKey|Buffer/);
  });

  it('keeps debug-level library chatter out of an info log', () => {
    const logged = capture();
    const target = new Console(capture().stream);
    routeConsoleToLogger(createLogger({ service: 'stickerbot-daemon', level: 'info', destination: logged.stream }), target);
    target.info('Closing session:', new SessionEntry());
    target.warn('Closing open session in favor of incoming prekey bundle');
    expect(logged.text().trim().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
      'Closing open session in favor of incoming prekey bundle',
    ]);
  });

  it('caps one call at 500 characters', () => {
    expect(safeConsoleText(['word '.repeat(200)])).toHaveLength(501);
  });
});
