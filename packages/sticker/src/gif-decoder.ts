import { StickerError } from './errors.js';
import { unionRegion, type Region } from './resize-rgba.js';

/**
 * A GIF decoder (GIF87a/89a: LZW, global and local colour tables, interlace, transparency,
 * disposal methods 0–3) that composes one canvas at a time, the logical screen in RGBA,
 * the way browsers show it: the screen starts transparent, "restore to background" clears
 * a frame's rectangle to transparency, frames are clipped to the screen. Memory is the
 * canvas, one palette-index buffer as large as the biggest frame and, for "restore to
 * previous", a copy of that frame's rectangle; the caller bounds the screen and every
 * frame's rectangle from the header (`scanGif`'s extent) before decoding.
 */

const EXTENSION = 0x21;
const IMAGE = 0x2c;
const TRAILER = 0x3b;
const GRAPHIC_CONTROL = 0xf9;
const MAX_CODES = 4096;

const DISPOSE_BACKGROUND = 2;
const DISPOSE_PREVIOUS = 3;

function corrupt(message: string): StickerError {
  return new StickerError('CORRUPT_INPUT', `cannot decode the GIF: ${message}`);
}

/** A colour table as little-endian RGBA words (opaque), 256 entries: indices past the table are opaque black. */
function readPalette(bytes: Uint8Array, at: number, packed: number): Uint32Array {
  const entries = 2 ** ((packed & 0x07) + 1);
  if (at + entries * 3 > bytes.length) throw corrupt('its colour table is cut short');
  const palette = new Uint32Array(256).fill(0xff000000);
  for (let i = 0; i < entries; i += 1) {
    const o = at + i * 3;
    palette[i] = (0xff000000 | (bytes[o + 2]! << 16) | (bytes[o + 1]! << 8) | bytes[o]!) >>> 0;
  }
  return palette;
}

/** The image data sub-blocks from `at` concatenated, and the offset after their terminator. */
function readSubBlocks(bytes: Uint8Array, at: number): { data: Uint8Array; next: number } {
  let size = 0;
  let offset = at;
  for (;;) {
    if (offset >= bytes.length) throw corrupt('the image data is cut short');
    const length = bytes[offset]!;
    if (length === 0) break;
    size += length;
    offset += 1 + length;
  }
  if (offset > bytes.length) throw corrupt('the image data is cut short');
  const data = new Uint8Array(size);
  let filled = 0;
  for (let o = at; bytes[o]! !== 0; o += 1 + bytes[o]!) {
    data.set(bytes.subarray(o + 1, o + 1 + bytes[o]!), filled);
    filled += bytes[o]!;
  }
  return { data, next: offset + 1 };
}

/**
 * Decodes LZW data (GIF89a appendix F) into `out`, exactly `out.length` palette indices.
 * Every dictionary string is a run of output already written (the previous string plus
 * one index), so an entry is only its start and length, and decoding a code copies bytes
 * within `out`. Data that ends before `out` is full, a code not yet defined or a code size
 * outside 2–8 is corrupt; what follows the last pixel is ignored, as browsers do.
 */
export function decodeLzw(data: Uint8Array, minCodeSize: number, out: Uint8Array): void {
  if (minCodeSize < 2 || minCodeSize > 8) throw corrupt(`its LZW code size ${minCodeSize} is outside 2–8`);
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  const start = new Int32Array(MAX_CODES);
  const length = new Int32Array(MAX_CODES);
  const total = out.length;
  let codeSize = minCodeSize + 1;
  let mask = (1 << codeSize) - 1;
  let next = clear + 2;
  // Where the previous code's string was written and its length (-1: none since a clear code).
  let previousAt = -1;
  let previousLength = 0;
  let written = 0;
  let bits = 0;
  let buffer = 0;
  let at = 0;
  while (written < total) {
    while (bits < codeSize) {
      if (at >= data.length) throw corrupt(`the image data ends after ${written} of ${total} pixels`);
      buffer |= data[at]! << bits;
      bits += 8;
      at += 1;
    }
    const code = buffer & mask;
    buffer >>>= codeSize;
    bits -= codeSize;
    if (code === clear) {
      codeSize = minCodeSize + 1;
      mask = (1 << codeSize) - 1;
      next = clear + 2;
      previousAt = -1;
      continue;
    }
    if (code === end) throw corrupt(`the image data ends after ${written} of ${total} pixels`);
    const here = written;
    let count: number;
    if (code < clear) {
      out[written] = code;
      count = 1;
    } else if (previousAt === -1 || code > next) {
      throw corrupt(`LZW code ${code} is not defined yet`);
    } else {
      // A defined string, or (code === next) the previous string plus its own first index:
      // the forward copy reads that index right after writing it.
      const from = code === next ? previousAt : start[code]!;
      count = code === next ? previousLength + 1 : length[code]!;
      const stop = Math.min(count, total - written);
      if (stop > 16 && code !== next) {
        // A long defined string lies wholly before the write position: one native copy.
        out.copyWithin(written, from, from + stop);
      } else {
        for (let i = 0; i < stop; i += 1) out[written + i] = out[from + i]!;
      }
    }
    written += count;
    if (previousAt !== -1 && next < MAX_CODES) {
      // The new entry, the previous string plus this one's first index, lies in the output already.
      start[next] = previousAt;
      length[next] = previousLength + 1;
      next += 1;
      if (next === mask + 1 && codeSize < 12) {
        codeSize += 1;
        mask = (1 << codeSize) - 1;
      }
    }
    previousAt = here;
    previousLength = count;
  }
}

/** Row of the image each stored row `i` of an interlaced GIF goes to (four passes: 8n, 8n+4, 4n+2, 2n+1). */
function interlacedRows(height: number): Int32Array {
  const rows = new Int32Array(height);
  let i = 0;
  for (const [first, step] of [[0, 8], [4, 8], [2, 4], [1, 2]] as const) {
    for (let y = first; y < height; y += step) rows[i++] = y;
  }
  return rows;
}

/** One frame's facts from its graphic control block and image descriptor. */
interface FrameHeader {
  left: number;
  top: number;
  width: number;
  height: number;
  transparent: number | undefined;
  disposal: number;
}

/** One composed canvas and the part of it that differs from the previous one at most. */
export interface GifCanvas {
  /** The logical screen as RGBA; the same buffer every time. */
  rgba: Buffer;
  /** Where this canvas may differ from the previous one: the previous frame's disposal and this frame's rectangle, on the screen. */
  changed: Region | undefined;
}

/**
 * The composed canvases of a GIF, one per frame in order, up to frame `last` (inclusive):
 * each yield is the logical screen as RGBA after that frame is drawn, before its disposal.
 * The yielded buffer is reused: copy what must outlive the next step. Throws
 * `CORRUPT_INPUT` for a structure, colour table or LZW stream that cannot be decoded.
 */
export function* gifCanvases(bytes: Uint8Array, last = Number.POSITIVE_INFINITY): Generator<GifCanvas, void, void> {
  if (bytes.length < 13 || String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!) !== 'GIF') throw corrupt('no GIF header');
  const u16 = (at: number): number => bytes[at]! | (bytes[at + 1]! << 8);
  const width = u16(6);
  const height = u16(8);
  if (width === 0 || height === 0) throw corrupt('its logical screen is empty');
  const packed = bytes[10]!;
  let offset = 13;
  let globalPalette: Uint32Array | undefined;
  if ((packed & 0x80) !== 0) {
    globalPalette = readPalette(bytes, offset, packed);
    offset += 3 * 2 ** ((packed & 0x07) + 1);
  }
  let canvas: Buffer;
  try {
    // Zeroed pages are only touched where frames draw: a huge screen around small frames stays cheap.
    canvas = Buffer.from(new ArrayBuffer(width * height * 4));
  } catch (err) {
    throw new StickerError('TOO_MANY_PIXELS', `a ${width}×${height} GIF screen does not fit in memory`, { cause: err, details: { width, height } });
  }
  const pixels = new Uint32Array(canvas.buffer, 0, width * height);
  let indices = new Uint8Array(0);
  let saved = new Uint32Array(0);
  let transparent: number | undefined;
  let disposal = 0;
  let frame = 0;
  let disposed: Region | undefined;
  while (frame <= last) {
    if (offset >= bytes.length) throw corrupt(`the file ends after ${frame} frames, without a trailer`);
    const block = bytes[offset];
    if (block === TRAILER) return;
    if (block === EXTENSION) {
      if (bytes[offset + 1] === GRAPHIC_CONTROL && bytes[offset + 2] === 4 && offset + 7 < bytes.length) {
        const flags = bytes[offset + 3]!;
        transparent = (flags & 0x01) !== 0 ? bytes[offset + 6] : undefined;
        disposal = (flags >> 2) & 0x07;
      }
      offset = readSubBlocks(bytes, offset + 2).next;
      continue;
    }
    if (block !== IMAGE) throw corrupt(`unknown block 0x${(block ?? 0).toString(16)} at byte ${offset}`);
    if (offset + 10 > bytes.length) throw corrupt('an image descriptor is cut short');
    const header: FrameHeader = { left: u16(offset + 1), top: u16(offset + 3), width: u16(offset + 5), height: u16(offset + 7), transparent, disposal };
    const flags = bytes[offset + 9]!;
    offset += 10;
    let palette = globalPalette;
    if ((flags & 0x80) !== 0) {
      palette = readPalette(bytes, offset, flags);
      offset += 3 * 2 ** ((flags & 0x07) + 1);
    }
    if (palette === undefined) throw corrupt(`frame ${frame} has no colour table`);
    if (offset >= bytes.length) throw corrupt('the image data is cut short');
    const minCodeSize = bytes[offset]!;
    const { data, next } = readSubBlocks(bytes, offset + 1);
    offset = next;
    const area = header.width * header.height;
    if (indices.length < area) indices = new Uint8Array(area);
    const frameIndices = indices.subarray(0, area);
    decodeLzw(data, minCodeSize, frameIndices);

    // The part of the frame on the screen.
    const x0 = Math.min(header.left, width);
    const y0 = Math.min(header.top, height);
    const x1 = Math.min(header.left + header.width, width);
    const y1 = Math.min(header.top + header.height, height);
    if (header.disposal === DISPOSE_PREVIOUS) {
      const need = (x1 - x0) * (y1 - y0);
      if (saved.length < need) saved = new Uint32Array(need);
      for (let y = y0, s = 0; y < y1; y += 1, s += x1 - x0) saved.set(pixels.subarray(y * width + x0, y * width + x1), s);
    }
    const rows = (flags & 0x40) !== 0 ? interlacedRows(header.height) : undefined;
    const key = header.transparent ?? -1;
    for (let stored = 0; stored < header.height; stored += 1) {
      const y = header.top + (rows === undefined ? stored : rows[stored]!);
      if (y >= y1) continue;
      const src = stored * header.width - header.left;
      const row = y * width;
      for (let x = x0; x < x1; x += 1) {
        const index = frameIndices[src + x]!;
        if (index !== key) pixels[row + x] = palette[index]!;
      }
    }
    const drawn = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
    yield { rgba: canvas, changed: unionRegion(disposed, drawn) };
    disposed = header.disposal === DISPOSE_BACKGROUND || header.disposal === DISPOSE_PREVIOUS ? drawn : undefined;
    if (header.disposal === DISPOSE_BACKGROUND) {
      for (let y = y0; y < y1; y += 1) pixels.fill(0, y * width + x0, y * width + x1);
    } else if (header.disposal === DISPOSE_PREVIOUS) {
      for (let y = y0, s = 0; y < y1; y += 1, s += x1 - x0) pixels.set(saved.subarray(s, s + x1 - x0), y * width + x0);
    }
    transparent = undefined;
    disposal = 0;
    frame += 1;
  }
}
