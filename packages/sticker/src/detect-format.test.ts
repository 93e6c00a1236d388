import { describe, expect, it } from 'vitest';
import { detectFormat } from './detect-format.js';

describe('detectFormat', () => {
  it('recognises each supported format by its magic bytes', () => {
    const ftyp = (brand: string): Buffer => Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from(`ftyp${brand}`)]);
    expect(detectFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(detectFormat(Buffer.from('89504e470d0a1a0a0000', 'hex'))).toBe('png');
    expect(detectFormat(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('webp');
    expect(detectFormat(Buffer.from('GIF89a....'))).toBe('gif');
    expect(detectFormat(ftyp('isom'))).toBe('mp4');
    expect(detectFormat(ftyp('qt  '))).toBe('mp4');
    expect(detectFormat(Buffer.from('1a45dfa3a3428686', 'hex'))).toBe('webm');
  });

  it('refuses look-alikes and other formats', () => {
    expect(detectFormat(Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic')]))).toBeUndefined();
    expect(detectFormat(Buffer.from('%PDF-1.7'))).toBeUndefined();
    expect(detectFormat(Buffer.from('BM6\0\0\0'))).toBeUndefined();
    expect(detectFormat(Buffer.from('RIFF\0\0\0\0WAVEfmt '))).toBeUndefined();
  });
});
