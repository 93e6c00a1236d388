import { CommandFailure } from '../router/command-failure.js';
import { defineCommand } from '../router/define-command.js';
import { normalizeTag, takeEmojiArgs } from '../db/tags.js';
import { splitPair } from '../router/parse.js';

/** `take <pack> | <author>`: re-tag a sticker with your own pack metadata. */
export const takeCommand = defineCommand({
  name: 'take',
  aliases: ['steal', 'wm'],
  summary: 'make a sticker yours: same picture, your pack name and author',
  usage: '[pack | author] [emojis]',
  examples: ['take (as a reply to a sticker)', 'take Cats | Alice', 'take Cats | Alice 😂'],
  details: 'Without a name it uses your default pack (see pack). Emojis replace the sticker\'s own and tag it for find.',
  async run(ctx) {
    const source = ctx.findMedia();
    if (!source || source.kind !== 'sticker') throw new CommandFailure(`Reply to a sticker with ${ctx.prefix}take pack | author.`);
    const { emojis, rest } = takeEmojiArgs(ctx.rest.split(/\s+/));
    const [pack, author] = splitPair(rest.join(' '));
    const defaults = ctx.packFor();
    ctx.ensureWithinCap(source);
    ctx.working();
    const sticker = await ctx.download(source);
    const retagged = await ctx.services.stickers.retag(sticker, {
      packName: pack ?? defaults.pack,
      publisher: author ?? defaults.author,
      ...(emojis.length > 0 ? { emojis } : {}),
    });
    await ctx.sendSticker(retagged, emojis.map(normalizeTag));
  },
});
