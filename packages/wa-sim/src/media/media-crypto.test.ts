import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptMedia, encryptMedia } from './media-crypto.js';

describe('media crypto', () => {
  it('round-trips media and checks every hash the message carries', () => {
    const plain = randomBytes(3000);
    const enc = encryptMedia(plain, 'sticker');
    expect(decryptMedia(enc.blob, 'sticker', enc)).toEqual(plain);
    expect(enc.fileLength).toBe(3000);
  });

  it('refuses a wrong fileSha256, a wrong media type key and a truncated blob', () => {
    const enc = encryptMedia(randomBytes(100), 'image');
    expect(() => decryptMedia(enc.blob, 'image', { ...enc, fileSha256: randomBytes(32) })).toThrow(/fileSha256/);
    expect(() => decryptMedia(enc.blob, 'video', { mediaKey: enc.mediaKey })).toThrow(/HMAC/);
    expect(() => decryptMedia(enc.blob.subarray(1), 'image', { mediaKey: enc.mediaKey })).toThrow(/HMAC/);
  });
});
