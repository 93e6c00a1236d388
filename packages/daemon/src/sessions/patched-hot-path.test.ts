/**
 * What the Baileys patch (patches/@whiskeysockets__baileys@7.0.0-rc14.patch) cut from every
 * frame's path does the same as before: its timeouts still name their caller, though the
 * stack is formatted only when one fires.
 */
import { delayCancellable, promiseTimeout } from '@whiskeysockets/baileys';
import { describe, expect, it } from 'vitest';

/** What Baileys rejects with (a Boom: not a dependency of ours, so checked by its shape). */
interface BoomLike extends Error {
  isBoom: true;
  output: { statusCode: number };
  data: unknown;
}

async function rejection(promise: Promise<unknown>): Promise<BoomLike> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error) || !('isBoom' in err) || err.isBoom !== true) throw new Error(`expected a Boom, got ${String(err)}`);
  return err as BoomLike;
}

describe("Baileys' timeouts, their stacks formatted only when needed", () => {
  it('a timed-out promiseTimeout rejects with Timed Out (408) and the stack of its caller', async () => {
    const timedOut = async function callerOfTheTimeout() {
      return promiseTimeout(5, () => undefined);
    };
    const err = await rejection(timedOut());
    expect(err.message).toBe('Timed Out');
    expect(err.output.statusCode).toBe(408);
    const stack = (err.data as { stack?: unknown }).stack;
    expect(typeof stack).toBe('string');
    expect(String(stack)).toMatch(/^Error/);
    expect(String(stack)).toContain('at promiseTimeout');
    expect(String(stack)).toContain('callerOfTheTimeout');
  });

  it('formats no stack for a promiseTimeout settled in time (stock Baileys formatted two)', async () => {
    let formatted = 0;
    const hook = Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace');
    // Counts every stack V8 formats from here on (no one else's formatting is needed meanwhile).
    Error.prepareStackTrace = (err: Error): string => {
      formatted += 1;
      return String(err);
    };
    try {
      for (let i = 0; i < 10; i += 1) await promiseTimeout(1_000, (resolve: (value: number) => void) => resolve(i));
    } finally {
      if (hook) Object.defineProperty(Error, 'prepareStackTrace', hook);
      else Reflect.deleteProperty(Error, 'prepareStackTrace');
    }
    expect(formatted).toBe(0);
  });

  it('a promiseTimeout settled in time gives its value or its error, untouched', async () => {
    await expect(promiseTimeout(1_000, (resolve: (value: string) => void) => resolve('sent'))).resolves.toBe('sent');
    const failure = new Error('socket closed');
    await expect(promiseTimeout(1_000, (_resolve, reject) => reject(failure))).rejects.toBe(failure);
  });

  it('a cancelled delay rejects with Cancelled and the stack of whoever made it', async () => {
    const made = function makerOfTheDelay() {
      return delayCancellable(60_000);
    };
    const { delay, cancel } = made();
    cancel();
    const err = await rejection(delay);
    expect(err.message).toBe('Cancelled');
    expect(String((err.data as { stack?: unknown }).stack)).toContain('makerOfTheDelay');
  });
});
