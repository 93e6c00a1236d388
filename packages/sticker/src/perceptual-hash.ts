import sharp from 'sharp';

export { hammingDistance } from './hamming-distance.js';

/**
 * The 64-bit difference hash (dHash) of an image's first frame, as 16 hex digits: the
 * picture flattened on white (a sticker's transparent pixels carry arbitrary colours),
 * greyscaled and squeezed to 9×8, one bit per horizontal neighbour pair (left brighter
 * than right). Re-encodings, new EXIF and small edits change few bits; another picture
 * changes about half. Compare two with `hammingDistance`.
 */
export async function perceptualHash(image: Uint8Array): Promise<string> {
  const pixels = await sharp(image, { pages: 1 })
    .flatten({ background: '#ffffff' })
    .greyscale()
    .resize(9, 8, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  let hash = 0n;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const left = pixels[y * 9 + x] ?? 0;
      const right = pixels[y * 9 + x + 1] ?? 0;
      hash = (hash << 1n) | (left > right ? 1n : 0n);
    }
  }
  return hash.toString(16).padStart(16, '0');
}
