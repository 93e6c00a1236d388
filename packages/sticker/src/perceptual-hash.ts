import sharp from 'sharp';

export { hammingDistance } from './hamming-distance.js';

/** Frames an animation's hash samples, evenly spread; each gives 16 of the 64 bits. */
const SAMPLED_FRAMES = 4;

/** The difference-hash bits of one frame: greyscale, `cols + 1` × `rows`, left brighter than right. */
async function dHashBits(image: Uint8Array, page: number, cols: number, rows: number): Promise<string> {
  const pixels = await sharp(image, { page, pages: 1 })
    .flatten({ background: '#ffffff' })
    .greyscale()
    .resize(cols + 1, rows, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  let bits = '';
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) bits += (pixels[y * (cols + 1) + x] ?? 0) > (pixels[y * (cols + 1) + x + 1] ?? 0) ? '1' : '0';
  }
  return bits;
}

/**
 * A 64-bit perceptual hash, as 16 hex digits, from difference hashes (dHash): the picture
 * flattened on white (a sticker's transparent pixels carry arbitrary colours), greyscaled
 * and squeezed, one bit per horizontal neighbour pair (left brighter than right). A still
 * image: its 8×8 dHash. An animation: four frames spread over it (the first, and at a
 * quarter, half and three quarters), 4×4 bits each, so two clips that start alike (a fade
 * from black) still differ. Re-encodings, new EXIF and small edits change few bits; another
 * picture changes about half. Compare two with `hammingDistance`.
 */
export async function perceptualHash(image: Uint8Array): Promise<string> {
  const pages = (await sharp(image).metadata()).pages ?? 1;
  const bits =
    pages <= 1
      ? await dHashBits(image, 0, 8, 8)
      : (await Promise.all(Array.from({ length: SAMPLED_FRAMES }, (_, i) => dHashBits(image, Math.floor((i * pages) / SAMPLED_FRAMES), 4, 4)))).join('');
  return BigInt(`0b${bits}`).toString(16).padStart(16, '0');
}
