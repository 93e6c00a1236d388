/**
 * Just enough of the GIF block structure (GIF89a §17–§27) to tell whether the decoded
 * animation can show a transparent pixel, decoding at most its first frame (LZW, GIF89a
 * appendix F) and only to see whether the transparent colour occurs in it.
 */

/** What the block scan found; `undefined` from {@link scanGif} when the structure is not a readable GIF. */
export interface GifLayout {
  width: number;
  height: number;
  /** The first image's rectangle and whether its graphic control block names a transparent colour. */
  first:
    | {
        left: number;
        top: number;
        width: number;
        height: number;
        /** The colour index its graphic control block declares transparent, if any. */
        transparent: number | undefined;
        /** Where its LZW minimum code size byte sits (its data sub-blocks follow). */
        data: number;
      }
    | undefined;
  /** Whether any frame is disposed by "restore to background", which clears its area to transparency. */
  clearsToBackground: boolean;
  frames: number;
  /** Each frame's delay as written, in centiseconds (0 when it has no graphic control block). */
  delaysCs: number[];
  /** Where each frame's delay field sits (undefined when it has no graphic control block). */
  delayFieldsAt: (number | undefined)[];
  /** The screen grown to hold every frame's rectangle: what a decoder's canvas may need. */
  extent: { width: number; height: number };
}

const EXTENSION = 0x21;
const IMAGE = 0x2c;
const TRAILER = 0x3b;
const GRAPHIC_CONTROL = 0xf9;
const RESTORE_TO_BACKGROUND = 2;

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
    first: undefined,
    clearsToBackground: false,
    frames: 0,
    delaysCs: [],
    delayFieldsAt: [],
    extent: { width: u16(6), height: u16(8) },
  };
  let offset = 13 + colorTableBytes(bytes[10] ?? 0);
  let transparent: number | undefined;
  let delayCs = 0;
  let delayFieldAt: number | undefined;
  while (offset < bytes.length) {
    const block = bytes[offset];
    if (block === TRAILER) break;
    if (block === EXTENSION) {
      const label = bytes[offset + 1];
      if (label === GRAPHIC_CONTROL && bytes[offset + 2] === 4) {
        const packed = bytes[offset + 3] ?? 0;
        transparent = (packed & 0x01) !== 0 ? bytes[offset + 6] : undefined;
        delayCs = u16(offset + 4);
        delayFieldAt = offset + 4;
        if (((packed >> 2) & 0x07) === RESTORE_TO_BACKGROUND) layout.clearsToBackground = true;
      }
      offset = skipSubBlocks(bytes, offset + 2);
    } else if (block === IMAGE) {
      if (offset + 10 > bytes.length) break;
      // Descriptor, local colour table, LZW minimum code size, then the image data.
      const data = offset + 10 + colorTableBytes(bytes[offset + 9] ?? 0);
      if (layout.frames === 0) {
        layout.first = { left: u16(offset + 1), top: u16(offset + 3), width: u16(offset + 5), height: u16(offset + 7), transparent, data };
      }
      layout.frames += 1;
      layout.delaysCs.push(delayCs);
      layout.delayFieldsAt.push(delayFieldAt);
      layout.extent.width = Math.max(layout.extent.width, u16(offset + 1) + u16(offset + 5));
      layout.extent.height = Math.max(layout.extent.height, u16(offset + 3) + u16(offset + 7));
      transparent = undefined;
      delayCs = 0;
      delayFieldAt = undefined;
      offset = skipSubBlocks(bytes, data + 1);
    } else {
      break;
    }
    if (offset < 0) break;
  }
  return layout.frames === 0 ? undefined : layout;
}

const BROWSER_SHORT_DELAY_CS = 10;

/**
 * The GIF with every written delay of 0 or 1 cs rewritten as 10 cs, the way browsers play it
 * (`gifFrameMs`). ffmpeg's GIF reader did the same up to 5.x, but 7.x keeps 10 ms as written,
 * so without this the engine's timeline and ffmpeg's frame timestamps would disagree.
 * Returns the input itself when nothing needs rewriting.
 */
export function withBrowserDelays(bytes: Buffer, layout: GifLayout): Buffer {
  const fields = layout.delayFieldsAt.filter((at, i): at is number => at !== undefined && (layout.delaysCs[i] ?? 0) <= 1);
  if (fields.length === 0) return bytes;
  const copy = Buffer.from(bytes);
  for (const at of fields) copy.writeUInt16LE(BROWSER_SHORT_DELAY_CS, at);
  return copy;
}

const MAX_CODES = 4096;
/**
 * Largest first frame whose LZW data is checked (under 10 ms of JavaScript on the event
 * loop at most); a larger GIF keeps its alpha channel rather than block the loop.
 */
const MAX_CHECKED_PIXELS = 1_000_000;

/**
 * Decodes one image's LZW data far enough to answer whether colour `index` occurs among
 * its first `pixels` pixels; undefined when the data is malformed or ends before them.
 * No pixel is written out: every dictionary entry only remembers its length, its first
 * colour and whether `index` occurs in it.
 */
export function lzwUsesIndex(bytes: Uint8Array, data: number, pixels: number, index: number): boolean | undefined {
  const minCodeSize = bytes[data] ?? 0;
  if (minCodeSize < 2 || minCodeSize > 8) return undefined;
  const chunks: Uint8Array[] = [];
  for (let at = data + 1; ; ) {
    const size = bytes[at] ?? 0;
    if (size === 0 || at + 1 + size > bytes.length) break;
    chunks.push(bytes.subarray(at + 1, at + 1 + size));
    at += 1 + size;
  }
  const stream = Buffer.concat(chunks);
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  const length = new Uint32Array(MAX_CODES);
  const first = new Uint8Array(MAX_CODES);
  const holds = new Uint8Array(MAX_CODES);
  for (let code = 0; code < clear; code += 1) {
    length[code] = 1;
    first[code] = code;
    holds[code] = code === index ? 1 : 0;
  }
  let codeSize = minCodeSize + 1;
  let next = clear + 2;
  let previous = -1;
  let decoded = 0;
  let bits = 0;
  let buffer = 0;
  let at = 0;
  while (decoded < pixels) {
    while (bits < codeSize && at < stream.length) {
      buffer |= (stream[at] ?? 0) << bits;
      bits += 8;
      at += 1;
    }
    if (bits < codeSize) return undefined;
    const code = buffer & ((1 << codeSize) - 1);
    buffer >>>= codeSize;
    bits -= codeSize;
    if (code === clear) {
      codeSize = minCodeSize + 1;
      next = clear + 2;
      previous = -1;
      continue;
    }
    if (code === end) return undefined;
    if (previous === -1) {
      if (code > clear) return undefined;
    } else {
      if (code > next) return undefined;
      if (next < MAX_CODES) {
        // The new entry: the previous string plus the first colour of this one (itself, for KwKwK).
        const head = code === next ? (first[previous] ?? 0) : (first[code] ?? 0);
        length[next] = (length[previous] ?? 0) + 1;
        first[next] = first[previous] ?? 0;
        holds[next] = holds[previous] === 1 || head === index ? 1 : 0;
        next += 1;
        if (next === 1 << codeSize && codeSize < 12) codeSize += 1;
      }
    }
    if (holds[code] === 1) return true;
    decoded += length[code] ?? 0;
    previous = code;
  }
  return false;
}

/**
 * True only when every decoded frame is certainly opaque: the first image covers the whole
 * screen without a transparent pixel, and no frame is restored to the background. A later
 * frame's transparent colour only lets the previous picture show through, so it cannot
 * make a pixel transparent. When the first image declares a transparent colour (optimisers,
 * libvips among them, declare one in every frame) its data is decoded to see whether that
 * colour is used. Anything unusual answers false: the caller keeps the alpha channel.
 */
export function gifIsOpaque(bytes: Uint8Array): boolean {
  const layout = scanGif(bytes);
  const first = layout?.first;
  if (layout === undefined || first === undefined || layout.clearsToBackground) return false;
  if (first.left !== 0 || first.top !== 0 || first.width < layout.width || first.height < layout.height) return false;
  if (first.transparent === undefined) return true;
  const pixels = first.width * first.height;
  return pixels <= MAX_CHECKED_PIXELS && lzwUsesIndex(bytes, first.data, pixels, first.transparent) === false;
}
