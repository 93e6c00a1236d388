import sharp from 'sharp';
import { StickerError } from './errors.js';
import type { Rect } from './frame-stream-encoder.js';
import { STICKER_RULES } from './rules.js';
import { encodeWebpFile, parseWebp, writeUInt24LE, type WebpChunk } from './webp-container.js';

const FLAG_ALPHA = 0x10;
/** The padding under the alpha rectangle: libwebp flattens transparent blocks to this anyway, so the picture's pixels come out the same. */
const PADDING = { r: 0, g: 0, b: 0 };
const TRANSPARENT = { r: 0, g: 0, b: 0, alpha: 0 };

/** ALPH chunks per placement; each is a few dozen bytes and a 512² canvas has at most ~1,000 placements. */
const alphaChunks = new Map<string, Promise<Buffer>>();

/**
 * The ALPH chunk of a 512×512 still whose alpha is 255 inside `rect` and 0 elsewhere,
 * losslessly coded by libwebp once per placement (from a mask) and kept: the alpha plane
 * of an opaque picture on transparent padding depends on the geometry alone.
 */
export function rectangleAlpha(rect: Rect, size: number = STICKER_RULES.size): Promise<Buffer> {
  const key = `${size}:${rect.x},${rect.y},${rect.width},${rect.height}`;
  let chunk = alphaChunks.get(key);
  if (chunk === undefined) {
    const mask = Buffer.alloc(size * size * 4);
    for (let y = rect.y; y < rect.y + rect.height; y += 1) {
      for (let x = rect.x; x < rect.x + rect.width; x += 1) mask[(y * size + x) * 4 + 3] = 255;
    }
    chunk = sharp(mask, { raw: { width: size, height: size, channels: 4 } })
      .webp({ quality: 100, effort: 1 })
      .toBuffer()
      .then((webp) => {
        const alpha = parseWebp(webp).chunks.find((c) => c.fourcc === 'ALPH');
        if (alpha === undefined) throw new StickerError('FFMPEG_FAILED', 'libwebp wrote no ALPH chunk for a mask with transparency');
        return Buffer.from(alpha.data);
      });
    chunk.catch(() => alphaChunks.delete(key));
    alphaChunks.set(key, chunk);
  }
  return chunk;
}

/** A still WebP (VP8X, ALPH, VP8) of the square canvas from an opaque VP8 bitstream and an ALPH chunk. */
function withAlpha(vp8: WebpChunk, alph: Buffer, size: number): Buffer {
  const vp8x = Buffer.alloc(10);
  vp8x[0] = FLAG_ALPHA;
  writeUInt24LE(vp8x, size - 1, 4);
  writeUInt24LE(vp8x, size - 1, 7);
  return encodeWebpFile([{ fourcc: 'VP8X', data: vp8x }, { fourcc: 'ALPH', data: alph }, vp8]);
}

/**
 * A `fit` still: the image resized to fit the square (`inside`), then padded. An opaque
 * image (no alpha channel) is padded with a flat colour and encoded as plain VP8 (flat
 * padding costs libwebp almost nothing), and the ALPH chunk of its placement
 * (`rectangleAlpha`) is attached: otherwise libwebp codes the same rectangle of alpha for
 * every image, 5–10 ms of a 4000×3000 JPEG's ~50 ms. The picture is centred, rounded down,
 * where sharp's `contain` puts it. Two libvips pipelines, because the placement is only
 * known once the first has resized (sharp's rounding depends on its shrink-on-load). The
 * caller sends images whose header announces alpha to its one-pipeline `contain`; one that
 * decodes with alpha all the same is padded with transparency and keeps its alpha plane.
 */
export async function fitStill(input: Buffer, options: { maxInputPixels: number; kernel: 'mitchell'; quality: number; effort: number }): Promise<Buffer> {
  const size = STICKER_RULES.size;
  const { data, info } = await sharp(input, { limitInputPixels: options.maxInputPixels })
    .autoOrient()
    .resize(size, size, { fit: 'inside', kernel: options.kernel })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const place = { x: Math.floor((size - info.width) / 2), y: Math.floor((size - info.height) / 2), width: info.width, height: info.height };
  const opaque = info.channels === 1 || info.channels === 3;
  // A square picture fills the canvas: no padding, no transparency, nothing for an ALPH to say.
  const fills = place.width === size && place.height === size;
  const alph = opaque && !fills ? rectangleAlpha(place, size) : undefined;
  const webp = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .extend({
      top: place.y,
      bottom: size - place.height - place.y,
      left: place.x,
      right: size - place.width - place.x,
      background: opaque ? PADDING : TRANSPARENT,
    })
    .webp({ quality: options.quality, effort: options.effort })
    .toBuffer();
  if (alph === undefined) return webp;
  return attachAlpha(webp, alph, size, 'an opaque picture');
}

/** The still WebP of `webp`'s VP8 bitstream (libwebp's opaque encode) with the ALPH chunk `alph`; `what` names it in the error. */
export async function attachAlpha(webp: Buffer, alph: Promise<Buffer>, size: number, what: string): Promise<Buffer> {
  const vp8 = parseWebp(webp).chunks.find((c) => c.fourcc === 'VP8 ');
  if (vp8 === undefined) throw new StickerError('FFMPEG_FAILED', `libwebp wrote no VP8 bitstream for ${what}`);
  return withAlpha(vp8, await alph, size);
}
