import sharp from 'sharp';
import { StickerError } from './errors.js';
import { encodeStaticPixels } from './image-sticker.js';
import { STICKER_RULES } from './rules.js';
import type { ConvertRequest, EncodedSticker } from './types.js';

/** Longest text rendered, in characters. */
export const MAX_TEXT_LENGTH = 500;
const FONT = 'DejaVu Sans Bold';
const TEXT_BOX = 464;
const OUTLINE_OFFSETS = [-4, 0, 4].flatMap((dx) => [-4, 0, 4].map((dy) => ({ dx, dy }))).filter((o) => o.dx !== 0 || o.dy !== 0);

function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

async function renderText(text: string, colour: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp({
    text: {
      text: `<span foreground="${colour}">${escapeMarkup(text)}</span>`,
      font: FONT,
      width: TEXT_BOX,
      height: TEXT_BOX,
      align: 'centre',
      rgba: true,
      wrap: 'word-char',
    },
  })
    .png()
    .toBuffer({ resolveWithObject: true });
  if (info.width <= TEXT_BOX && info.height <= TEXT_BOX) return { data, width: info.width, height: info.height };
  // Auto-fit measures the logical extent; some glyphs overshoot it.
  const fitted = await sharp(data).resize(TEXT_BOX, TEXT_BOX, { fit: 'inside' }).png().toBuffer({ resolveWithObject: true });
  return { data: fitted.data, width: fitted.info.width, height: fitted.info.height };
}

/** Renders text, white with a black outline, centred on a transparent 512 square. */
export async function stickerFromText(text: string, request: ConvertRequest): Promise<EncodedSticker> {
  const trimmed = text.trim();
  if (trimmed === '') throw new StickerError('TEXT_RENDER_FAILED', 'there is no text to render');
  if (trimmed.length > MAX_TEXT_LENGTH) {
    throw new StickerError('TEXT_RENDER_FAILED', `text is ${trimmed.length} characters, at most ${MAX_TEXT_LENGTH} fit on a sticker`);
  }
  const size = STICKER_RULES.size;
  let pixels: Buffer;
  try {
    const fill = await renderText(trimmed, 'white');
    // Text is auto-fitted to the box, so a real font fills it; without fonts Pango draws a
    // few tiny placeholder boxes instead (seen with an empty fontconfig).
    if (fill.width < TEXT_BOX / 4 && fill.height < TEXT_BOX / 4) {
      throw new StickerError('TEXT_RENDER_FAILED', `no font could draw the text (looked for "${FONT}"; got a ${fill.width}×${fill.height} placeholder)`);
    }
    const outline = await renderText(trimmed, 'black');
    const left = Math.round((size - fill.width) / 2);
    const top = Math.round((size - fill.height) / 2);
    const { data, info } = await sharp({ create: { width: size, height: size, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .composite([
        ...OUTLINE_OFFSETS.map((o) => ({ input: outline.data, left: left + o.dx, top: top + o.dy })),
        { input: fill.data, left, top },
      ])
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`expected RGBA, got ${info.channels} channels`);
    pixels = data;
  } catch (err) {
    if (err instanceof StickerError) throw err;
    throw new StickerError('TEXT_RENDER_FAILED', `cannot render the text: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  let ink = 0;
  for (let i = 3; i < pixels.length; i += 4) ink += pixels[i]! > 0 ? 1 : 0;
  // A missing font renders nothing (or only tofu boxes are not even drawn): refuse a blank sticker.
  if (ink === 0) throw new StickerError('TEXT_RENDER_FAILED', `no font could draw the text (looked for "${FONT}")`);
  return encodeStaticPixels(pixels, request);
}
