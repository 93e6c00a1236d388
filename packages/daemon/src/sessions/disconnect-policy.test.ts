import { describe, expect, it } from 'vitest';
import { decideDisconnect, statusCodeOf } from './disconnect-policy.js';
import { FakeBoom } from '../test-kit/fake-wa-socket.js';

describe('disconnect policy', () => {
  it.each([
    [515, 'restartRequired', 'reconnect-now'],
    [401, 'loggedOut', 'logged-out'],
    [440, 'connectionReplaced', 'stop'],
    [500, 'badSession', 'stop'],
    [411, 'multideviceMismatch', 'stop'],
    [405, 'versionRefused', 'stop'],
    [428, 'connectionClosed', 'backoff'],
    [408, 'connectionLost', 'backoff'],
    [503, 'unavailableService', 'backoff'],
    [599, 'status 599', 'backoff'],
  ])('decides on status %i: %s → %s', (code, reason, action) => {
    expect(decideDisconnect(new FakeBoom('closed', code))).toMatchObject({ statusCode: code, reason, action });
  });

  it('reconnects with backoff after a close without a status', () => {
    expect(decideDisconnect(new Error('socket hang up'))).toEqual({ reason: 'unknown', statusCode: undefined, action: 'backoff' });
    expect(decideDisconnect(undefined).action).toBe('backoff');
  });

  it('names the reason in the reported error of a stop', () => {
    expect(decideDisconnect(new FakeBoom('Connection Failure', 405)).error).toEqual({
      code: 'SESSION_NOT_CONNECTED',
      message: expect.stringContaining('versionRefused 405: Connection Failure') as string,
      retryable: false,
    });
  });

  it('reads the status code of Boom-shaped errors only', () => {
    expect(statusCodeOf({ output: { statusCode: 440 } })).toBe(440);
    expect(statusCodeOf({ output: {} })).toBeUndefined();
    expect(statusCodeOf('440')).toBeUndefined();
  });
});
