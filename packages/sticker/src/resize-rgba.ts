/**
 * Resizing of premultiplied RGBA in JavaScript, for GIF canvases: bilinear (what ffmpeg's
 * `flags=bilinear` scaler did for GIFs before), preceded by a box shrink by the whole
 * factor when the picture shrinks by 2× or more, so every source pixel counts (libvips
 * shrinks the same way before its reduce). A GIF canvas is premultiplied already (a pixel
 * is opaque or all zero), so interpolating it needs no premultiplication; partly covered
 * output pixels are un-premultiplied at the end. At sticker size this costs less than
 * handing each canvas to libvips (~3 ms of CPU a frame for 480×360 → 512×384, measured).
 */

/** A picture of `width`×`height` RGBA pixels. */
export interface RgbaImage {
  data: Uint8Array;
  width: number;
  height: number;
}

const words = (bytes: Uint8Array): Int32Array => new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);

/** The part of a picture to resize. */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Averages `fx`×`fy` blocks of `region` of `src` into `out` (premultiplied, so a plain mean per channel). */
function boxShrink(src: RgbaImage, region: Region, fx: number, fy: number, out: Uint8Array): RgbaImage {
  const width = Math.floor(region.width / fx);
  const height = Math.floor(region.height / fy);
  const sums = new Uint32Array(width * 4);
  const count = fx * fy;
  const half = count >>> 1;
  for (let y = 0; y < height; y += 1) {
    sums.fill(0);
    for (let dy = 0; dy < fy; dy += 1) {
      let at = ((region.y + y * fy + dy) * src.width + region.x) * 4;
      for (let x = 0; x < width; x += 1) {
        const s = x * 4;
        for (let dx = 0; dx < fx; dx += 1, at += 4) {
          sums[s] += src.data[at]!;
          sums[s + 1] += src.data[at + 1]!;
          sums[s + 2] += src.data[at + 2]!;
          sums[s + 3] += src.data[at + 3]!;
        }
      }
    }
    const row = y * width * 4;
    for (let i = 0; i < width * 4; i += 1) out[row + i] = ((sums[i]! + half) / count) | 0;
  }
  return { data: out, width, height };
}

/** Source pixel and 7-bit weight of the next one for each destination position (pixel centres aligned). */
function axis(source: number, target: number, offset: number): { at: Int32Array; next: Int32Array; weight: Int32Array } {
  const at = new Int32Array(target);
  const next = new Int32Array(target);
  const weight = new Int32Array(target);
  const scale = source / target;
  for (let d = 0; d < target; d += 1) {
    const s = Math.min(Math.max((d + 0.5) * scale - 0.5, 0), source - 1);
    const floor = Math.floor(s);
    at[d] = offset + floor;
    next[d] = offset + Math.min(floor + 1, source - 1);
    weight[d] = Math.round((s - floor) * WEIGHT_ONE);
  }
  return { at, next, weight };
}

const WEIGHT_ONE = 128;

/**
 * Mixes two RGBA words, `w`/128 of `b`: two channels per multiply (8-bit lanes 16 bits
 * apart hold 255 × 128 without carrying into each other, and every sum stays a 31-bit
 * integer, which V8 keeps out of floating point).
 */
function mix(a: number, b: number, w: number): number {
  const v = WEIGHT_ONE - w;
  const low = (((a & 0xff00ff) * v + (b & 0xff00ff) * w) >> 7) & 0xff00ff;
  const high = ((((a >>> 8) & 0xff00ff) * v + ((b >>> 8) & 0xff00ff) * w) << 1) & 0xff00ff00;
  return low | high;
}

/** Reusable buffers of one resizing job (a GIF's canvases all have one size). */
export interface Resizer {
  /** Resizes `src` (premultiplied) into straight-alpha RGBA `width`×`height`, written into `out`. */
  resize(src: RgbaImage, out: Uint8Array): void;
}

/**
 * A resizer of `region` of the pictures it gets to `target` size (stretching: the caller
 * picks the region's and the target's shapes).
 */
export function createResizer(region: Region, target: { width: number; height: number }): Resizer {
  const fx = Math.max(1, Math.floor(region.width / target.width));
  const fy = Math.max(1, Math.floor(region.height / target.height));
  const shrinks = fx > 1 || fy > 1;
  const shrunk = shrinks ? new Uint8Array(Math.floor(region.width / fx) * Math.floor(region.height / fy) * 4) : undefined;
  // Without a shrink the region's offset goes into the sampling positions.
  const x = axis(Math.floor(region.width / fx), target.width, shrinks ? 0 : region.x);
  const y = axis(Math.floor(region.height / fy), target.height, shrinks ? 0 : region.y);
  // Horizontally resized source rows, two at a time (the pair each output row mixes).
  const rows = [new Int32Array(target.width), new Int32Array(target.width)];
  const held = [-1, -1];
  const horizontal = (from: Int32Array, stride: number, source: number): Int32Array => {
    const slot = held[0] === source ? 0 : held[1] === source ? 1 : -1;
    if (slot !== -1) return rows[slot]!;
    // Replace the row the next output row will not need (the lower index).
    const into = held[0]! < held[1]! ? 0 : 1;
    const row = rows[into]!;
    const start = source * stride;
    for (let col = 0; col < target.width; col += 1) row[col] = mix(from[start + x.at[col]!]!, from[start + x.next[col]!]!, x.weight[col]!);
    held[into] = source;
    return row;
  };
  return {
    resize(image, out) {
      const src = shrunk === undefined ? image : boxShrink(image, region, fx, fy, shrunk);
      const from = words(src.data);
      const to = words(out);
      held[0] = -1;
      held[1] = -1;
      for (let row = 0; row < target.height; row += 1) {
        const top = horizontal(from, src.width, y.at[row]!);
        const bottom = horizontal(from, src.width, y.next[row]!);
        const wy = y.weight[row]!;
        const o = row * target.width;
        if (wy === 0) to.set(top, o);
        else for (let col = 0; col < target.width; col += 1) to[o + col] = mix(top[col]!, bottom[col]!, wy);
      }
      // Partly covered pixels (edges of transparency) back to straight alpha.
      for (let i = 0; i < target.width * target.height; i += 1) {
        const alpha = out[i * 4 + 3]!;
        if (alpha === 0 || alpha === 255) continue;
        const p = i * 4;
        out[p] = Math.min(255, Math.round((out[p]! * 255) / alpha));
        out[p + 1] = Math.min(255, Math.round((out[p + 1]! * 255) / alpha));
        out[p + 2] = Math.min(255, Math.round((out[p + 2]! * 255) / alpha));
      }
    },
  };
}
