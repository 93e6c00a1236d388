import { proto } from '@whiskeysockets/baileys';
import { aesGcmDecrypt, aesGcmEncrypt, generateKeyPair, hkdf, sha256, sharedSecret, type KeyPair } from '../crypto/primitives.js';
import { SimProtocolError } from '../errors.js';

const NOISE_MODE = Buffer.from('Noise_XX_25519_AESGCM_SHA256\0\0\0\0', 'utf8');
const PROLOGUE = Buffer.from([0x57, 0x41, 6, 3]);

const nonce = (counter: number): Buffer => {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(counter, 8);
  return iv;
};

/** The per-direction AES-GCM ciphers after the handshake (empty associated data, counter nonces). */
export interface TransportCipher {
  encrypt(plaintext: Uint8Array): Buffer;
  decrypt(ciphertext: Uint8Array): Buffer;
}

/** What the client proved in its ClientFinish. */
export interface HandshakeResult {
  /** The client's long-term noise public key (`creds.noiseKey.public`). */
  readonly clientStaticKey: Buffer;
  readonly payload: proto.ClientPayload;
  readonly transport: TransportCipher;
}

/**
 * The responder side of WhatsApp's Noise_XX_25519_AESGCM_SHA256. The protocol name is exactly
 * 32 bytes, so it seeds h, ck and k as is (no hashing).
 */
export function createNoiseResponder(serverStatic: KeyPair, certChain: Uint8Array) {
  let hash: Buffer = NOISE_MODE;
  let chainKey: Buffer = NOISE_MODE;
  let key: Buffer = NOISE_MODE;
  let counter = 0;
  const ephemeral = generateKeyPair();

  const mixHash = (data: Uint8Array): void => {
    hash = sha256(Buffer.concat([hash, data]));
  };
  const mixKey = (material: Uint8Array): void => {
    const out = hkdf(material, 64, chainKey);
    chainKey = out.subarray(0, 32);
    key = out.subarray(32);
    counter = 0;
  };
  const encryptAndHash = (plaintext: Uint8Array): Buffer => {
    const ciphertext = aesGcmEncrypt(key, nonce(counter++), plaintext, hash);
    mixHash(ciphertext);
    return ciphertext;
  };
  const decryptAndHash = (ciphertext: Uint8Array): Buffer => {
    const plaintext = aesGcmDecrypt(key, nonce(counter++), ciphertext, hash);
    mixHash(ciphertext);
    return plaintext;
  };

  mixHash(PROLOGUE);

  return {
    /** Consumes the ClientHello and returns the encoded ServerHello handshake message. */
    respondToHello(frame: Uint8Array): Buffer {
      const hello = proto.HandshakeMessage.decode(frame).clientHello;
      const clientEphemeral = hello?.ephemeral;
      if (!clientEphemeral || clientEphemeral.length !== 32) {
        throw new SimProtocolError('bad-handshake', 'ClientHello without a 32-byte ephemeral key');
      }
      mixHash(clientEphemeral);
      mixHash(ephemeral.public);
      mixKey(sharedSecret(ephemeral.private, clientEphemeral));
      const encryptedStatic = encryptAndHash(serverStatic.public);
      mixKey(sharedSecret(serverStatic.private, clientEphemeral));
      const payload = encryptAndHash(certChain);
      return Buffer.from(
        proto.HandshakeMessage.encode({ serverHello: { ephemeral: ephemeral.public, static: encryptedStatic, payload } }).finish(),
      );
    },

    /** Consumes the ClientFinish, authenticates the client's static key and splits into transport ciphers. */
    finish(frame: Uint8Array): HandshakeResult {
      const finish = proto.HandshakeMessage.decode(frame).clientFinish;
      if (!finish?.static || !finish.payload) {
        throw new SimProtocolError('bad-handshake', 'ClientFinish without static key or payload');
      }
      let clientStaticKey: Buffer;
      let payloadBytes: Buffer;
      try {
        clientStaticKey = decryptAndHash(finish.static);
        mixKey(sharedSecret(ephemeral.private, clientStaticKey));
        payloadBytes = decryptAndHash(finish.payload);
      } catch (err) {
        throw new SimProtocolError('bad-handshake', 'ClientFinish failed to decrypt', { cause: err });
      }
      const split = hkdf(Buffer.alloc(0), 64, chainKey);
      const receiveKey = split.subarray(0, 32);
      const sendKey = split.subarray(32);
      let readCounter = 0;
      let writeCounter = 0;
      return {
        clientStaticKey,
        payload: proto.ClientPayload.decode(payloadBytes),
        transport: {
          encrypt: (plaintext) => aesGcmEncrypt(sendKey, nonce(writeCounter++), plaintext, Buffer.alloc(0)),
          decrypt: (ciphertext) => aesGcmDecrypt(receiveKey, nonce(readCounter++), ciphertext, Buffer.alloc(0)),
        },
      };
    },
  };
}
