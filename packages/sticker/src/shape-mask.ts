import { STICKER_RULES } from './rules.js';

/** How the picture fills the 512×512 square. */
export type StickerShape = 'fit' | 'crop' | 'circle' | 'rounded';

/** Corner radius of the 'rounded' shape, in pixels of the 512 canvas. */
const ROUNDED_RADIUS = 64;

function coverage(distanceOutside: number): number {
  // Anti-aliased edge: full inside, zero one pixel outside the boundary.
  return Math.min(1, Math.max(0, 0.5 - distanceOutside));
}

/** Alpha coverage (0..255) a shape leaves at every pixel; undefined for shapes without a mask. */
export function shapeMask(shape: StickerShape, size = STICKER_RULES.size): Uint8Array | undefined {
  if (shape !== 'circle' && shape !== 'rounded') return undefined;
  const mask = new Uint8Array(size * size);
  const c = size / 2;
  const r = shape === 'circle' ? c : ROUNDED_RADIUS;
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      const px = x + 0.5;
      const py = y + 0.5;
      let outside: number;
      if (shape === 'circle') {
        outside = Math.hypot(px - c, py - c) - r;
      } else {
        // Distance to the rounded rectangle: only the corner regions are curved.
        const dx = Math.max(r - px, px - (size - r), 0);
        const dy = Math.max(r - py, py - (size - r), 0);
        outside = dx > 0 && dy > 0 ? Math.hypot(dx, dy) - r : -1;
      }
      mask[y * size + x] = Math.round(coverage(outside) * 255);
    }
  }
  return mask;
}

/** Multiplies the alpha channel of 512² RGBA frames (stacked vertically) by the mask, in place. */
export function applyMask(rgba: Buffer, mask: Uint8Array): void {
  const size = STICKER_RULES.size;
  const frameBytes = size * size * 4;
  for (let at = 0; at < rgba.length; at += frameBytes) applyMaskAt(rgba.subarray(at, at + frameBytes), { x: 0, y: 0, width: size, height: size }, mask);
}

/** Multiplies the alpha channel of an RGBA picture that sits at `rect` of the `size`² canvas by that part of the mask, in place. */
export function applyMaskAt(rgba: Buffer, rect: { x: number; y: number; width: number; height: number }, mask: Uint8Array, size = STICKER_RULES.size): void {
  for (let row = 0; row < rect.height; row += 1) {
    const from = (rect.y + row) * size + rect.x;
    for (let col = 0, a = row * rect.width * 4 + 3; col < rect.width; col += 1, a += 4) {
      const m = mask[from + col]!;
      if (m !== 255) rgba[a] = (rgba[a]! * m + 127) / 255;
    }
  }
}
