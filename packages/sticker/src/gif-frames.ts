/**
 * The GIF block structure (GIF89a §17–§27) without decoding pixels: the logical screen,
 * every frame's rectangle and delay. The engine's header read, before anything decodes.
 */

/** What the block scan found; `undefined` from {@link scanGif} when the structure is not a readable GIF. */
export interface GifLayout {
  width: number;
  height: number;
  frames: number;
  /** Each frame's delay as written, in centiseconds (0 when it has no graphic control block). */
  delaysCs: number[];
  /** The screen grown to hold every frame's rectangle: what a decoder's canvas may need. */
  extent: { width: number; height: number };
}

const EXTENSION = 0x21;
const IMAGE = 0x2c;
const TRAILER = 0x3b;
const GRAPHIC_CONTROL = 0xf9;

/** Skips data sub-blocks from `at`; returns the offset after the terminator, or -1 past the end. */
function skipSubBlocks(bytes: Uint8Array, at: number): number {
  let offset = at;
  while (offset < bytes.length) {
    const size = bytes[offset] ?? 0;
    offset += 1;
    if (size === 0) return offset;
    offset += size;
  }
  return -1;
}

const colorTableBytes = (packed: number): number => ((packed & 0x80) === 0 ? 0 : 3 * 2 ** ((packed & 0x07) + 1));

/** Reads the block structure of a GIF; undefined when it is not one or is cut short before any frame. */
export function scanGif(bytes: Uint8Array): GifLayout | undefined {
  if (bytes.length < 13 || String.fromCharCode(...bytes.subarray(0, 3)) !== 'GIF') return undefined;
  const u16 = (at: number): number => (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8);
  const layout: GifLayout = {
    width: u16(6),
    height: u16(8),
    frames: 0,
    delaysCs: [],
    extent: { width: u16(6), height: u16(8) },
  };
  let offset = 13 + colorTableBytes(bytes[10] ?? 0);
  let delayCs = 0;
  while (offset < bytes.length) {
    const block = bytes[offset];
    if (block === TRAILER) break;
    if (block === EXTENSION) {
      const label = bytes[offset + 1];
      if (label === GRAPHIC_CONTROL && bytes[offset + 2] === 4) {
        delayCs = u16(offset + 4);
      }
      offset = skipSubBlocks(bytes, offset + 2);
    } else if (block === IMAGE) {
      if (offset + 10 > bytes.length) break;
      // Descriptor, local colour table, LZW minimum code size, then the image data.
      const data = offset + 10 + colorTableBytes(bytes[offset + 9] ?? 0);
      layout.frames += 1;
      layout.delaysCs.push(delayCs);
      layout.extent.width = Math.max(layout.extent.width, u16(offset + 1) + u16(offset + 5));
      layout.extent.height = Math.max(layout.extent.height, u16(offset + 3) + u16(offset + 7));
      delayCs = 0;
      offset = skipSubBlocks(bytes, data + 1);
    } else {
      break;
    }
    if (offset < 0) break;
  }
  return layout.frames === 0 ? undefined : layout;
}
