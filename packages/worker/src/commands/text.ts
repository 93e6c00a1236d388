import { CommandFailure } from '../router/command-failure.js';
import { defineCommand } from '../router/define-command.js';

/** Longest text rendered into a sticker, in characters. */
export const MAX_STICKER_TEXT = 200;

/** `text <words>`: the words rendered as a sticker. */
export const textCommand = defineCommand({
  name: 'text',
  aliases: ['ttp', 'say'],
  summary: 'write words on a sticker',
  usage: '<words>',
  examples: ['text good morning!'],
  async run(ctx) {
    const words = ctx.rest;
    if (words === '') throw new CommandFailure(`What should it say? ${ctx.prefix}text your words`);
    if (words.length > MAX_STICKER_TEXT) throw new CommandFailure(`That is too long for a sticker: at most ${MAX_STICKER_TEXT} characters.`);
    ctx.working();
    const defaults = ctx.packFor();
    const sticker = await ctx.services.stickers.fromText(words, { pack: defaults.pack, author: defaults.author, signal: ctx.signal });
    await ctx.sendSticker(sticker);
  },
});
