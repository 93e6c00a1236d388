import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import * as curve from 'libsignal/src/curve.js';

/** A Curve25519 key pair with a 32-byte public key (no `05` type prefix), as Baileys stores them. */
export interface KeyPair {
  readonly public: Buffer;
  readonly private: Buffer;
}

/** The Signal key-type byte that prefixes 33-byte public keys. */
export const KEY_TYPE_DJB = Buffer.from([5]);

export const sha256 = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();

export const hmacSha256 = (key: Uint8Array, data: Uint8Array): Buffer =>
  createHmac('sha256', key).update(data).digest();

/** RFC 5869 HKDF-SHA256; written out because WhatsApp feeds it an empty input key, which node's hkdfSync rejects. */
export function hkdf(ikm: Uint8Array, length: number, salt: Uint8Array = Buffer.alloc(32), info: Uint8Array = Buffer.alloc(0)): Buffer {
  const prk = hmacSha256(salt.length > 0 ? salt : Buffer.alloc(32), ikm);
  const blocks: Buffer[] = [];
  let previous: Buffer = Buffer.alloc(0);
  for (let i = 1; Buffer.concat(blocks).length < length; i++) {
    previous = hmacSha256(prk, Buffer.concat([previous, info, Buffer.from([i])]));
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

export function aesGcmEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

export function aesGcmDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  return Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
}

export function generateKeyPair(): KeyPair {
  const { pubKey, privKey } = curve.generateKeyPair();
  return { public: Buffer.from(pubKey).subarray(1), private: Buffer.from(privKey) };
}

/** What precedes a raw X25519 private key in its PKCS #8 DER form. */
export const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** A deterministic key pair, so several emulators in one process can share one noise root. */
export function keyPairFromSeed(seed: string): KeyPair {
  const priv = sha256(Buffer.from(seed, 'utf8'));
  priv[0] = priv[0]! & 248;
  priv[31] = (priv[31]! & 127) | 64;
  const der = Buffer.concat([X25519_PKCS8_PREFIX, priv]);
  const spki = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ type: 'spki', format: 'der' });
  return { public: spki.subarray(spki.length - 32), private: priv };
}

/** Prefixes a 32-byte Curve25519 public key with the `05` key type. */
export const signalPublicKey = (pub: Uint8Array): Buffer =>
  pub.length === 33 ? Buffer.from(pub) : Buffer.concat([KEY_TYPE_DJB, pub]);

export const sharedSecret = (priv: Uint8Array, pub: Uint8Array): Buffer =>
  Buffer.from(curve.calculateAgreement(signalPublicKey(pub), priv));

/** XEdDSA signature (64 bytes). */
export const sign = (priv: Uint8Array, message: Uint8Array): Buffer => Buffer.from(curve.calculateSignature(priv, message));

/**
 * A real XEdDSA check. Baileys rc14's `Curve.verify` ignores libsignal's boolean result and
 * accepts any well-formed signature, so the emulator never uses it.
 */
export function verifySignature(pub: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return curve.verifySignature(signalPublicKey(pub), message, signature);
  } catch {
    return false;
  }
}

export const randomId = (bytes = 8): string => randomBytes(bytes).toString('hex').toUpperCase();

/** Big-endian encoding in `length` bytes (registration ids use 4, key ids 3). */
export function encodeBigEndian(value: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let rest = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = rest & 0xff;
    rest = Math.floor(rest / 256);
  }
  return out;
}

export const decodeBigEndian = (bytes: Uint8Array): number => bytes.reduce((acc, byte) => acc * 256 + byte, 0);
