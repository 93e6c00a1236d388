/**
 * Resizing of premultiplied RGBA in JavaScript, for GIF canvases: bilinear (what ffmpeg's
 * `flags=bilinear` scaler did for GIFs before), preceded by a box shrink by the whole
 * factor when the picture shrinks by 2× or more, so every source pixel counts (libvips
 * shrinks the same way before its reduce). A GIF canvas is premultiplied already (a pixel
 * is opaque or all zero), so interpolating it needs no premultiplication; partly covered
 * output pixels are un-premultiplied at the end. Only the output that a changed part of
 * the canvas reaches is computed again: a GIF whose frames redraw a small area costs
 * that area, not the screen.
 */

/** A picture of `width`×`height` RGBA pixels. */
export interface RgbaImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** A rectangle of a picture. */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The smallest rectangle holding both (either may be undefined: nothing). */
export function unionRegion(a: Region | undefined, b: Region | undefined): Region | undefined {
  if (a === undefined || a.width <= 0 || a.height <= 0) return b === undefined || b.width <= 0 || b.height <= 0 ? undefined : b;
  if (b === undefined || b.width <= 0 || b.height <= 0) return a;
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

const words = (bytes: Uint8Array): Int32Array => new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);

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

/** For each destination position: the source pixel, the next one and the 7-bit weight of the next (pixel centres aligned). */
interface Axis {
  at: Int32Array;
  next: Int32Array;
  weight: Int32Array;
}

function axis(source: number, target: number, offset: number): Axis {
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

/** The destination positions [from, to) that read any source position in [low, high). */
function reach(axis: Axis, low: number, high: number): { from: number; to: number } {
  let from = 0;
  while (from < axis.at.length && axis.next[from]! < low) from += 1;
  let to = from;
  while (to < axis.at.length && axis.at[to]! < high) to += 1;
  return { from, to };
}

/** Reusable buffers of one resizing job (a GIF's canvases all have one size). */
export interface Resizer {
  /**
   * Resizes the region of `src` (premultiplied) into straight-alpha RGBA of the target
   * size in `out`. With `changed` (canvas coordinates), only the output it reaches is
   * written: `out` must hold the previous result.
   */
  resize(src: RgbaImage, out: Uint8Array, changed?: Region): void;
}

/**
 * A resizer of `region` of the pictures it gets to `target` size (stretching: the caller
 * picks the region's and the target's shapes). `reuseRows: false` turns off the copying of
 * repeated rows (the same output, computed in full: for tests and measurements).
 */
export function createResizer(region: Region, target: { width: number; height: number }, options: { reuseRows?: boolean } = {}): Resizer {
  const reuseRows = options.reuseRows ?? true;
  const fx = Math.max(1, Math.floor(region.width / target.width));
  const fy = Math.max(1, Math.floor(region.height / target.height));
  const shrinks = fx > 1 || fy > 1;
  const shrunkWidth = Math.floor(region.width / fx);
  const shrunkHeight = Math.floor(region.height / fy);
  const shrunk = shrinks ? new Uint8Array(shrunkWidth * shrunkHeight * 4) : undefined;
  const sums = new Uint32Array(shrunkWidth * 4);
  // Bilinear positions in the picture it reads: the shrunk one, or (no shrink) the region of the source.
  const x = axis(shrunkWidth, target.width, shrinks ? 0 : region.x);
  const y = axis(shrunkHeight, target.height, shrinks ? 0 : region.y);
  const rows = [new Int32Array(target.width), new Int32Array(target.width)];
  const held = [-1, -1];

  /** Averages the `fx`×`fy` blocks [x0, x1)×[y0, y1) of the shrunk picture (a plain mean: premultiplied). */
  const boxShrink = (src: RgbaImage, into: Uint8Array, x0: number, x1: number, y0: number, y1: number): void => {
    const count = fx * fy;
    const half = count >>> 1;
    for (let sy = y0; sy < y1; sy += 1) {
      sums.fill(0, x0 * 4, x1 * 4);
      for (let dy = 0; dy < fy; dy += 1) {
        let at = ((region.y + sy * fy + dy) * src.width + region.x + x0 * fx) * 4;
        for (let sx = x0; sx < x1; sx += 1) {
          const s = sx * 4;
          for (let dx = 0; dx < fx; dx += 1, at += 4) {
            sums[s] = sums[s]! + src.data[at]!;
            sums[s + 1] = sums[s + 1]! + src.data[at + 1]!;
            sums[s + 2] = sums[s + 2]! + src.data[at + 2]!;
            sums[s + 3] = sums[s + 3]! + src.data[at + 3]!;
          }
        }
      }
      const row = sy * shrunkWidth * 4;
      for (let i = x0 * 4; i < x1 * 4; i += 1) into[row + i] = ((sums[i]! + half) / count) | 0;
    }
  };

  return {
    resize(image, out, changed) {
      // The changed part in the coordinates the bilinear step reads.
      let low = { x: 0, y: 0 };
      let high = { x: shrinks ? shrunkWidth : region.x + region.width, y: shrinks ? shrunkHeight : region.y + region.height };
      if (!shrinks) low = { x: region.x, y: region.y };
      if (changed !== undefined) {
        const cx0 = Math.max(changed.x, region.x) - region.x;
        const cy0 = Math.max(changed.y, region.y) - region.y;
        const cx1 = Math.min(changed.x + changed.width, region.x + region.width) - region.x;
        const cy1 = Math.min(changed.y + changed.height, region.y + region.height) - region.y;
        if (cx1 <= cx0 || cy1 <= cy0) return;
        low = shrinks ? { x: Math.floor(cx0 / fx), y: Math.floor(cy0 / fy) } : { x: region.x + cx0, y: region.y + cy0 };
        high = shrinks
          ? { x: Math.min(shrunkWidth, Math.ceil(cx1 / fx)), y: Math.min(shrunkHeight, Math.ceil(cy1 / fy)) }
          : { x: region.x + cx1, y: region.y + cy1 };
      }
      let src = image;
      if (shrunk !== undefined) {
        boxShrink(image, shrunk, low.x, high.x, low.y, high.y);
        src = { data: shrunk, width: shrunkWidth, height: shrunkHeight };
      }
      const columns = reach(x, low.x, high.x);
      const lines = reach(y, low.y, high.y);
      const from = words(src.data);
      const to = words(out);
      held[0] = -1;
      held[1] = -1;
      // Rows of flat colour repeat: a source row equal to the one resized before it (over
      // the columns read) is copied, not mixed again, and an output line made from one
      // content, the same as the line above, is a copy of that line. Exact: a pixel mixed
      // with itself is itself. Comparing costs a word per pixel at most and stops at the
      // first difference, so dithered pictures pay little for it.
      const ids = [-1, -1];
      let nextId = 0;
      const spanLow = columns.from < columns.to ? x.at[columns.from]! : 0;
      const spanHigh = columns.from < columns.to ? x.next[columns.to - 1]! + 1 : 0;
      const sameSource = (a: number, b: number): boolean => {
        const da = a * src.width;
        const db = b * src.width;
        for (let k = spanLow; k < spanHigh; k += 1) if (from[da + k] !== from[db + k]) return false;
        return true;
      };
      /** Source row `source` resized horizontally over the reached columns, two rows kept (the pair an output row mixes); returns its slot. */
      const horizontal = (source: number): number => {
        const slot = held[0] === source ? 0 : held[1] === source ? 1 : -1;
        if (slot !== -1) return slot;
        const into = held[0]! < held[1]! ? 0 : 1;
        const other = 1 - into;
        const row = rows[into]!;
        if (reuseRows && held[other] !== -1 && sameSource(held[other]!, source)) {
          row.set(rows[other]!.subarray(columns.from, columns.to), columns.from);
          ids[into] = ids[other]!;
        } else {
          const start = source * src.width;
          const { at, next, weight } = x;
          for (let col = columns.from; col < columns.to; col += 1) row[col] = mix(from[start + at[col]!]!, from[start + next[col]!]!, weight[col]!);
          ids[into] = nextId;
          nextId += 1;
        }
        held[into] = source;
        return into;
      };
      /** The content the previous output line was made of alone (-1: mixed from two contents, or none yet). */
      let previousLine = -1;
      for (let line = lines.from; line < lines.to; line += 1) {
        const topSlot = horizontal(y.at[line]!);
        const bottomSlot = horizontal(y.next[line]!);
        const top = rows[topSlot]!;
        const bottom = rows[bottomSlot]!;
        const wy = y.weight[line]!;
        const o = line * target.width;
        const single = wy === 0 || (reuseRows && ids[topSlot] === ids[bottomSlot]) ? ids[topSlot]! : -1;
        if (reuseRows && single !== -1 && single === previousLine) {
          out.copyWithin((o + columns.from) * 4, (o - target.width + columns.from) * 4, (o - target.width + columns.to) * 4);
          continue;
        }
        previousLine = single;
        for (let col = columns.from; col < columns.to; col += 1) {
          const value = single !== -1 ? top[col]! : mix(top[col]!, bottom[col]!, wy);
          to[o + col] = value;
          const alpha = value >>> 24;
          // Partly covered pixels (edges of transparency) back to straight alpha.
          if (alpha !== 0 && alpha !== 255) {
            const p = (o + col) * 4;
            out[p] = Math.min(255, Math.round((out[p]! * 255) / alpha));
            out[p + 1] = Math.min(255, Math.round((out[p + 1]! * 255) / alpha));
            out[p + 2] = Math.min(255, Math.round((out[p + 2]! * 255) / alpha));
          }
        }
      }
    },
  };
}
