import { randomInt } from 'node:crypto';
import { ProtocolAddress, SessionBuilder, SessionCipher, type SessionRecord, type SignalStorage } from 'libsignal';
import { generateKeyPair, sign, signalPublicKey, type KeyPair } from '../crypto/primitives.js';
import { createSenderKeyStore } from './sender-keys.js';

/** A prekey bundle as the server hands it out (`encrypt get key`), keys without the `05` prefix. */
export interface PreKeyBundle {
  readonly registrationId: number;
  readonly identityKey: Buffer;
  readonly signedPreKey: { readonly keyId: number; readonly publicKey: Buffer; readonly signature: Buffer };
  readonly preKey?: { readonly keyId: number; readonly publicKey: Buffer };
}

/** A Signal ciphertext as carried in an `<enc>` node. */
export interface SignalCiphertext {
  readonly type: 'pkmsg' | 'msg';
  readonly ciphertext: Buffer;
}

const toLibsignalPair = (pair: KeyPair) => ({ pubKey: signalPublicKey(pair.public), privKey: pair.private });

const address = (name: string): ProtocolAddress => {
  const dot = name.lastIndexOf('.');
  return new ProtocolAddress(name.slice(0, dot), Number(name.slice(dot + 1)));
};

/**
 * A device with real libsignal state living inside the emulator: the primary phone of a fake
 * account. Addresses are `user.device` strings, e.g. `123456789012345@lid.1`.
 */
export function createFakeDevice(identity: KeyPair) {
  const registrationId = randomInt(1, 16380);
  const signedKeyPair = generateKeyPair();
  const signedPreKey = { keyId: 1, keyPair: signedKeyPair, signature: sign(identity.private, signalPublicKey(signedKeyPair.public)) };
  const preKeys = new Map<number, KeyPair>();
  // Records are kept as objects: libsignal's serialize() returns a plain object, not the bytes its typings claim.
  const sessions = new Map<string, SessionRecord>();
  let nextPreKeyId = 1;

  const storage: SignalStorage = {
    loadSession: (id) => Promise.resolve(sessions.get(id)),
    storeSession: (id, record) => {
      sessions.set(id, record);
      return Promise.resolve();
    },
    isTrustedIdentity: () => true,
    loadPreKey: (id) => {
      const pair = preKeys.get(Number(id));
      return Promise.resolve(pair ? toLibsignalPair(pair) : undefined);
    },
    removePreKey: (id) => {
      preKeys.delete(id);
    },
    loadSignedPreKey: () => toLibsignalPair(signedPreKey.keyPair),
    getOurRegistrationId: () => registrationId,
    getOurIdentity: () => toLibsignalPair(identity),
  };

  return {
    identityKey: identity.public,
    registrationId,
    /** Group sender keys: this device's own chains and those distributed to it. */
    senderKeys: createSenderKeyStore(),
    /** Hands out a bundle with a fresh one-time prekey, as the server would for `encrypt get key`. */
    takeBundle(): PreKeyBundle {
      const keyId = nextPreKeyId++;
      const pair = generateKeyPair();
      preKeys.set(keyId, pair);
      return {
        registrationId,
        identityKey: identity.public,
        signedPreKey: { keyId: signedPreKey.keyId, publicKey: signedKeyPair.public, signature: signedPreKey.signature },
        preKey: { keyId, publicKey: pair.public },
      };
    },
    hasSession: (to: string): boolean => sessions.has(to),
    /** X3DH from a bundle of the remote device (what a phone does after fetching keys). */
    async startSession(to: string, bundle: PreKeyBundle): Promise<void> {
      await new SessionBuilder(storage, address(to)).initOutgoing({
        registrationId: bundle.registrationId,
        identityKey: signalPublicKey(bundle.identityKey),
        signedPreKey: {
          keyId: bundle.signedPreKey.keyId,
          publicKey: signalPublicKey(bundle.signedPreKey.publicKey),
          signature: bundle.signedPreKey.signature,
        },
        // libsignal's typings require a one-time prekey, but X3DH without one is valid and
        // happens when the companion's uploaded prekeys run out.
        preKey: (bundle.preKey
          ? { keyId: bundle.preKey.keyId, publicKey: signalPublicKey(bundle.preKey.publicKey) }
          : undefined) as { keyId: number; publicKey: Uint8Array },
      });
    },
    async encrypt(to: string, plaintext: Uint8Array): Promise<SignalCiphertext> {
      const { type, body } = await new SessionCipher(storage, address(to)).encrypt(plaintext);
      return { type: type === 3 ? 'pkmsg' : 'msg', ciphertext: Buffer.from(body, 'binary') };
    },
    async decrypt(from: string, message: SignalCiphertext): Promise<Buffer> {
      const cipher = new SessionCipher(storage, address(from));
      return message.type === 'pkmsg'
        ? cipher.decryptPreKeyWhisperMessage(message.ciphertext)
        : cipher.decryptWhisperMessage(message.ciphertext);
    },
  };
}

export type FakeDevice = ReturnType<typeof createFakeDevice>;
