/**
 * libsignal's X25519 with keys handed to OpenSSL as JWK (patches/libsignal@6.0.0.patch):
 * OpenSSL 3 parses a DER private key through its generic decoders, about 400 µs, which made
 * the two agreements of every ratchet step a tenth of the daemon's main thread under traffic
 * (issue #16's C). The patched functions must give the same keys and secrets as before: the
 * reference here is the DER path libsignal took, and an XEdDSA signature (curve25519-js, pure
 * JS) for a key pair's halves belonging together.
 */
import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import * as curve from 'libsignal/src/curve.js';
import { describe, expect, it } from 'vitest';
import { X25519_PKCS8_PREFIX } from '../src/crypto/primitives.js';

const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

/** libsignal's keys are Buffers at run time; its typings say Uint8Array. */
const buffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes);
const agree = (publicKey: Uint8Array, privateKey: Uint8Array): Buffer => buffer(curve.calculateAgreement(publicKey, privateKey));
const keyPair = () => {
  const { pubKey, privKey } = curve.generateKeyPair();
  return { pubKey: buffer(pubKey), privKey: buffer(privKey) };
};

/** The agreement as libsignal computed it before the patch. */
function agreementThroughDer(publicKey: Buffer, privateKey: Buffer): Buffer {
  return diffieHellman({
    privateKey: createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, privateKey]), format: 'der', type: 'pkcs8' }),
    publicKey: createPublicKey({ key: Buffer.concat([SPKI_X25519, publicKey.subarray(1)]), format: 'der', type: 'spki' }),
  });
}

describe("libsignal's curve, patched", () => {
  it('makes key pairs whose halves belong together', () => {
    const other = keyPair();
    for (let i = 0; i < 20; i++) {
      const { pubKey, privKey } = keyPair();
      expect(privKey).toHaveLength(32);
      expect(pubKey).toHaveLength(33);
      expect(pubKey[0]).toBe(5);
      const signature = curve.calculateSignature(privKey, Buffer.from('message'));
      expect(curve.verifySignature(pubKey, Buffer.from('message'), signature)).toBe(true);
      expect(curve.verifySignature(other.pubKey, Buffer.from('message'), signature)).toBe(false);
    }
  });

  it('agrees on the same secret from both sides, and on the one the DER path gives', () => {
    for (let i = 0; i < 50; i++) {
      const alice = keyPair();
      const bob = keyPair();
      const secret = agree(bob.pubKey, alice.privKey);
      expect(secret).toHaveLength(32);
      expect(agree(alice.pubKey, bob.privKey).equals(secret)).toBe(true);
      expect(agreementThroughDer(bob.pubKey, alice.privKey).equals(secret)).toBe(true);
    }
  });

  it('reads a key that sits inside a larger buffer (a slice of a stored record)', () => {
    const alice = keyPair();
    const bob = keyPair();
    const stored = Buffer.concat([Buffer.from('prefix'), alice.privKey, Buffer.from('suffix')]);
    const privKey = stored.subarray(6, 38);
    const pubKey = Buffer.concat([Buffer.from('xx'), bob.pubKey]).subarray(2);
    expect(agree(pubKey, privKey).equals(agreementThroughDer(bob.pubKey, alice.privKey))).toBe(true);
  });

  it('still refuses keys of the wrong size', () => {
    const { pubKey, privKey } = keyPair();
    expect(() => curve.calculateAgreement(pubKey, privKey.subarray(1))).toThrow('Incorrect private key length: 31');
    expect(() => curve.calculateAgreement(pubKey.subarray(0, 20), privKey)).toThrow('Invalid public key');
  });
});
