import { StickerbotError } from '@stickerbot/protocol';
import { describe, expect, it } from 'vitest';
import { createCircuitBreaker } from './circuit-breaker.js';

const fail = () => Promise.reject(new Error('wa down'));
const succeed = () => Promise.resolve('ok');

describe('createCircuitBreaker', () => {
  it('opens after 5 consecutive failures and then fails fast with CIRCUIT_OPEN', async () => {
    let now = 0;
    const breaker = createCircuitBreaker({ now: () => now });
    for (let i = 0; i < 5; i += 1) await expect(breaker.run(fail)).rejects.toThrow('wa down');
    expect(breaker.state).toBe('open');
    let called = false;
    await expect(breaker.run(() => ((called = true), succeed()))).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(called).toBe(false);
    now = 59_999;
    await expect(breaker.run(succeed)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
  });

  it('half-opens after 60 s: a successful trial closes it, a failed one re-opens it', async () => {
    let now = 0;
    const breaker = createCircuitBreaker({ now: () => now });
    for (let i = 0; i < 5; i += 1) await breaker.run(fail).catch(() => undefined);
    now = 60_000;
    expect(breaker.state).toBe('half-open');
    await expect(breaker.run(fail)).rejects.toThrow('wa down');
    expect(breaker.state).toBe('open');
    now = 120_000;
    await expect(breaker.run(succeed)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(breaker.failures).toBe(0);
  });

  it('does not count caller errors or definite refusals, and resets the count on success', async () => {
    const breaker = createCircuitBreaker();
    for (let i = 0; i < 4; i += 1) await breaker.run(fail).catch(() => undefined);
    await breaker.run(succeed);
    for (let i = 0; i < 4; i += 1) await breaker.run(fail).catch(() => undefined);
    for (let i = 0; i < 10; i += 1) {
      await breaker.run(() => Promise.reject(new StickerbotError('MESSAGE_NOT_FOUND'))).catch(() => undefined);
      await breaker.run(() => Promise.reject(new StickerbotError('INTERNAL', 'gone', { retryable: false }))).catch(() => undefined);
    }
    expect(breaker.state).toBe('closed');
    expect(breaker.failures).toBe(4);
  });
});
