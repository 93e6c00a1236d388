import { describe, expect, it } from 'vitest';
import { decodeStickerExif, encodeStickerExif } from './sticker-metadata.js';

describe('sticker EXIF', () => {
  const metadata = { packId: 'id-1', packName: 'Pack ✨ ñ', publisher: 'Ana "the" Author', emojis: ['😀', '🎉'] };

  it('round-trips pack metadata including non-ASCII text', () => {
    expect(decodeStickerExif(encodeStickerExif(metadata))).toEqual(metadata);
  });

  it('uses the layout other WhatsApp tools read: one 0x5741 entry pointing at JSON at offset 22', () => {
    const exif = encodeStickerExif(metadata);
    expect(exif.subarray(0, 8).toString('hex')).toBe('49492a0008000000');
    expect(exif.readUInt16LE(8)).toBe(1);
    expect(exif.readUInt16LE(10)).toBe(0x5741);
    expect(exif.readUInt32LE(18)).toBe(22);
    expect(JSON.parse(exif.subarray(22).toString('utf8'))).toEqual({
      'sticker-pack-id': 'id-1',
      'sticker-pack-name': 'Pack ✨ ñ',
      'sticker-pack-publisher': 'Ana "the" Author',
      emojis: ['😀', '🎉'],
    });
  });

  it('returns undefined for EXIF without the WhatsApp tag or with broken JSON', () => {
    const broken = encodeStickerExif(metadata);
    broken.write('}', 22);
    expect(decodeStickerExif(broken)).toBeUndefined();
    const otherTag = encodeStickerExif(metadata);
    otherTag.writeUInt16LE(0x0112, 10);
    expect(decodeStickerExif(otherTag)).toBeUndefined();
    expect(decodeStickerExif(Buffer.from('nope'))).toBeUndefined();
  });
});
