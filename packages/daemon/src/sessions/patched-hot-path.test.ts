/**
 * What the patches cut from every message's path does the same as before: Baileys'
 * timeouts (patches/@whiskeysockets__baileys@7.0.0-rc14.patch) still name their caller,
 * though its stack is formatted only when one fires, and libsignal's X25519
 * (patches/libsignal@6.0.0.patch, keys imported as JWK instead of DER) still yields the
 * shared secrets OpenSSL computes from the DER encodings.
 */
import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import { Curve, delayCancellable, promiseTimeout } from '@whiskeysockets/baileys';
import { describe, expect, it } from 'vitest';

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

/** The shared secret as stock libsignal computed it (DER import). */
function derAgreement(privateKey: Uint8Array, publicKey: Uint8Array): Buffer {
  return diffieHellman({
    privateKey: createPrivateKey({ key: Buffer.concat([PKCS8_X25519, privateKey]), format: 'der', type: 'pkcs8' }),
    publicKey: createPublicKey({ key: Buffer.concat([SPKI_X25519, publicKey]), format: 'der', type: 'spki' }),
  });
}

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

describe("libsignal's X25519 over JWK", () => {
  it('computes the same shared secrets as over DER, both ways, with the keys it generates', () => {
    for (let i = 0; i < 50; i += 1) {
      const alice = Curve.generateKeyPair();
      const bob = Curve.generateKeyPair();
      expect(alice.private).toHaveLength(32);
      expect(alice.public).toHaveLength(32);
      // The public key generated is the private key's.
      expect(createPublicKey(createPrivateKey({ key: Buffer.concat([PKCS8_X25519, alice.private]), format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519.length)).toEqual(alice.public);
      const secret = Curve.sharedKey(alice.private, bob.public);
      expect(Buffer.from(secret)).toEqual(derAgreement(alice.private, bob.public));
      expect(Buffer.from(Curve.sharedKey(bob.private, alice.public))).toEqual(Buffer.from(secret));
    }
  });
});
