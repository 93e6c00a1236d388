/** Input formats the engine accepts, detected from the bytes (never from a file name). */
export type InputFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'mp4' | 'webm';

/** Which conversion path handles a format. */
export function isVideoFormat(format: InputFormat): boolean {
  return format === 'mp4' || format === 'webm';
}

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((b, i) => bytes[offset + i] === b);
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1', offset, offset + length);
}

/**
 * Detects the input format from its magic bytes. MP4 and MOV share the ISO base media
 * `ftyp` box (reported as 'mp4'); WebM and Matroska share the EBML header ('webm').
 * Returns undefined for anything else.
 */
export function detectFormat(bytes: Uint8Array): InputFormat | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  if (bytes.length >= 6 && (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')) return 'gif';
  if (bytes.length >= 12 && ascii(bytes, 4, 4) === 'ftyp') {
    const brand = ascii(bytes, 8, 4);
    // HEIF/AVIF images also use ftyp; they are not videos.
    if (/^(heic|heix|hevc|hevx|mif1|msf1|avif|avis)$/.test(brand)) return undefined;
    return 'mp4';
  }
  if (bytes.length >= 8 && ['moov', 'mdat', 'wide', 'free'].includes(ascii(bytes, 4, 4))) return 'mp4';
  if (startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3])) return 'webm';
  return undefined;
}
