/**
 * Reads back the text QRs the daemon prints (`renderQrText`): finds every block of
 * half-block lines in a text (a terminal capture, pm2's `daemon.err.log`), draws it as
 * pixels the way a dark-background terminal shows it, and decodes it with jsQR, a decoder
 * that has nothing to do with the renderer. For tests only.
 */
import jsqr from 'jsqr';

// jsqr is CommonJS with an `exports.default`: under NodeNext the default import is the module.
const jsQR = jsqr.default;

const LIGHT = 255;
const DARK = 0;
const SCALE = 4;
// Light or dark for the upper and lower module of each character (light = drawn block).
const CELLS: Readonly<Record<string, readonly [boolean, boolean]>> = {
  '█': [true, true],
  '▀': [true, false],
  '▄': [false, true],
  ' ': [false, false],
};

const isQrLine = (line: string): boolean => line.length >= 21 && line.includes('█') && [...line].every((char) => char in CELLS);

/** The blocks of consecutive QR lines in `text`, in order. */
export function findQrBlocks(text: string): string[][] {
  const blocks: string[][] = [];
  let block: string[] = [];
  for (const line of text.split('\n')) {
    if (isQrLine(line)) {
      block.push(line);
      continue;
    }
    if (block.length > 0) blocks.push(block);
    block = [];
  }
  if (block.length > 0) blocks.push(block);
  return blocks;
}

/** Decodes one block of QR lines; undefined when jsQR finds no code in it. */
export function decodeQrBlock(lines: readonly string[]): string | undefined {
  const columns = Math.max(...lines.map((line) => [...line].length));
  // The terminal's dark background shows around the block, as in a screenshot.
  const margin = 4;
  const width = (columns + 2 * margin) * SCALE;
  const height = (lines.length * 2 + 2 * margin) * SCALE;
  const pixels = new Uint8ClampedArray(width * height * 4).fill(DARK);
  for (let i = 3; i < pixels.length; i += 4) pixels[i] = 255;
  lines.forEach((line, row) => {
    [...line].forEach((char, col) => {
      const [upper, lower] = CELLS[char] ?? [false, false];
      [upper, lower].forEach((light, half) => {
        if (!light) return;
        for (let dy = 0; dy < SCALE; dy += 1) {
          for (let dx = 0; dx < SCALE; dx += 1) {
            const x = (margin + col) * SCALE + dx;
            const y = (margin + row * 2 + half) * SCALE + dy;
            const at = (y * width + x) * 4;
            pixels.fill(LIGHT, at, at + 3);
          }
        }
      });
    });
  });
  return jsQR(pixels, width, height, { inversionAttempts: 'dontInvert' })?.data;
}

/** Every QR printed in `text` that decodes, in order. */
export function readQrTexts(text: string): string[] {
  return findQrBlocks(text)
    .map((block) => decodeQrBlock(block))
    .filter((qr): qr is string => qr !== undefined);
}
