import type { StickerShape } from '@stickerbot/sticker';
import { normalizeTag, takeEmojiArgs } from '../db/tags.js';
import { CommandFailure } from '../router/command-failure.js';
import { defineCommand } from '../router/define-command.js';
import { splitPair } from '../router/parse.js';

/** Longest video accepted (before download); the engine clips longer ones to under 10 s. */
export const MAX_VIDEO_SECONDS = 600;

const SHAPES: Record<string, StickerShape> = {
  fit: 'fit',
  full: 'fit',
  crop: 'crop',
  square: 'crop',
  circle: 'circle',
  round: 'circle',
  rounded: 'rounded',
};

/** Splits sticker options: emojis anywhere, a shape word first, then `pack | author`. */
export function parseStickerOptions(args: readonly string[]): { shape: StickerShape; emojis: string[]; pack?: string; author?: string } {
  let shape: StickerShape = 'fit';
  const rest: string[] = [];
  const { emojis, rest: words } = takeEmojiArgs(args);
  for (const arg of words) {
    const known = SHAPES[arg.toLowerCase()];
    if (known && rest.length === 0) shape = known;
    else rest.push(arg);
  }
  const [pack, author] = splitPair(rest.join(' '));
  return { shape, emojis, ...(pack ? { pack } : {}), ...(author ? { author } : {}) };
}

/** `sticker`: image, GIF, video or sticker (own or replied to) → sticker. */
export const stickerCommand = defineCommand({
  name: 'sticker',
  aliases: ['s', 'stiker', 'stick'],
  summary: 'turn an image, GIF or video into a sticker (as caption, or replying to one)',
  usage: '[fit|crop|circle|rounded] [emojis] [pack | author]',
  examples: ['s', 's circle', 's 😂🔥', 'sticker crop My Pack | Me'],
  details:
    "Shapes: fit (whole picture, default), crop (square centre), circle, rounded. Videos become animated stickers (up to 10 s). Emojis go into the sticker (WhatsApp's sticker search finds it by them) and tag it for find.",
  async run(ctx) {
    const source = ctx.findMedia();
    if (!source) {
      throw new CommandFailure(`Send an image, GIF or video with ${ctx.prefix}sticker as its caption, or reply to one with ${ctx.prefix}sticker.`);
    }
    if (source.durationS !== undefined && source.durationS > MAX_VIDEO_SECONDS) {
      throw new CommandFailure('That video is too long. Send a clip shorter than 10 minutes (I use the first 10 seconds).');
    }
    const options = parseStickerOptions(ctx.args);
    const defaults = ctx.packFor();
    ctx.ensureWithinCap(source);
    ctx.working();
    const input = await ctx.download(source);
    const sticker = await ctx.services.stickers.toSticker(input, {
      shape: options.shape,
      pack: options.pack ?? defaults.pack,
      author: options.author ?? defaults.author,
      emojis: options.emojis,
      signal: ctx.signal,
    });
    await ctx.sendSticker(sticker, options.emojis.map(normalizeTag));
  },
});
