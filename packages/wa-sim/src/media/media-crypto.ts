import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { MEDIA_HKDF_KEY_MAPPING } from '@whiskeysockets/baileys';
import { hkdf, hmacSha256, sha256 } from '../crypto/primitives.js';
import { SimProtocolError } from '../errors.js';

/** Media kinds the emulator encrypts and verifies; they pick the HKDF info string. */
export type SimMediaType = 'image' | 'video' | 'gif' | 'sticker' | 'audio' | 'document';

/** An encrypted media blob and the fields a message carries about it. */
export interface EncryptedMedia {
  readonly mediaKey: Buffer;
  /** AES-256-CBC ciphertext followed by the 10-byte HMAC. */
  readonly blob: Buffer;
  readonly fileSha256: Buffer;
  readonly fileEncSha256: Buffer;
  readonly fileLength: number;
}

const MAC_LENGTH = 10;

const expandMediaKey = (mediaKey: Uint8Array, type: SimMediaType) => {
  const expanded = hkdf(mediaKey, 112, undefined, Buffer.from(`WhatsApp ${MEDIA_HKDF_KEY_MAPPING[type]} Keys`));
  return { iv: expanded.subarray(0, 16), cipherKey: expanded.subarray(16, 48), macKey: expanded.subarray(48, 80) };
};

/** Encrypts media the way WhatsApp clients do before upload. */
export function encryptMedia(plaintext: Buffer, type: SimMediaType): EncryptedMedia {
  const mediaKey = randomBytes(32);
  const { iv, cipherKey, macKey } = expandMediaKey(mediaKey, type);
  const cipher = createCipheriv('aes-256-cbc', cipherKey, iv);
  const enc = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const mac = hmacSha256(macKey, Buffer.concat([iv, enc])).subarray(0, MAC_LENGTH);
  const blob = Buffer.concat([enc, mac]);
  return { mediaKey, blob, fileSha256: sha256(plaintext), fileEncSha256: sha256(blob), fileLength: plaintext.length };
}

/** What a message says about its media, to check the downloaded blob against. */
export interface MediaExpectation {
  readonly mediaKey: Uint8Array;
  readonly fileSha256?: Uint8Array | null;
  readonly fileEncSha256?: Uint8Array | null;
}

/**
 * Checks `fileEncSha256`, the HMAC and `fileSha256` and decrypts. Baileys does none of these
 * checks on download, so this is where broken media crypto shows up.
 */
export function decryptMedia(blob: Buffer, type: SimMediaType, expected: MediaExpectation): Buffer {
  if (expected.fileEncSha256 && !sha256(blob).equals(Buffer.from(expected.fileEncSha256))) {
    throw new SimProtocolError('media', 'fileEncSha256 does not match the blob');
  }
  const { iv, cipherKey, macKey } = expandMediaKey(expected.mediaKey, type);
  const enc = blob.subarray(0, blob.length - MAC_LENGTH);
  const mac = blob.subarray(blob.length - MAC_LENGTH);
  if (!hmacSha256(macKey, Buffer.concat([iv, enc])).subarray(0, MAC_LENGTH).equals(mac)) {
    throw new SimProtocolError('media', 'media HMAC does not verify');
  }
  const decipher = createDecipheriv('aes-256-cbc', cipherKey, iv);
  const plaintext = Buffer.concat([decipher.update(enc), decipher.final()]);
  if (expected.fileSha256 && !sha256(plaintext).equals(Buffer.from(expected.fileSha256))) {
    throw new SimProtocolError('media', 'fileSha256 does not match the decrypted media');
  }
  return plaintext;
}
