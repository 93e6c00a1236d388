import { afterEach, describe, expect, it, vi } from 'vitest';
import { withTimeout } from './op-timeout.js';

describe('withTimeout', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fails with TIMEOUT at the deadline and aborts the signal', async () => {
    vi.useFakeTimers();
    let signal: AbortSignal | undefined;
    const pending = withTimeout('send', 30_000, (s) => ((signal = s), new Promise<never>(() => undefined)));
    const outcome = expect(pending).rejects.toMatchObject({ code: 'TIMEOUT', retryable: true });
    await vi.advanceTimersByTimeAsync(30_000);
    await outcome;
    expect(signal?.aborted).toBe(true);
  });

  it('passes results and errors through before the deadline', async () => {
    await expect(withTimeout('lookup', 1_000, () => Promise.resolve(42))).resolves.toBe(42);
    await expect(withTimeout('lookup', 1_000, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});
