import { parseTags } from '../db/tags.js';
import { CommandFailure } from '../router/command-failure.js';
import { defineCommand } from '../router/define-command.js';

/** `tag <emojis and words>`: tags the replied-to sticker for `find`. */
export const tagCommand = defineCommand({
  name: 'tag',
  aliases: ['tags'],
  summary: 'tag a sticker with emojis and words so find finds it (reply to the sticker)',
  usage: '<emojis and words>',
  examples: ['tag 😂 cat (replying to a sticker)', 'tag (replying to a sticker: shows its tags)'],
  details: 'Tags are emojis and single words (lower-cased, up to 32 characters, 24 a sticker). Anyone who may see the sticker may tag it.',
  async run(ctx) {
    const sha256 = await ctx.quotedSticker();
    if (sha256 === undefined) throw new CommandFailure(`Reply to a sticker with ${ctx.prefix}tag 😂 cat.`);
    const { catalogue } = ctx.services.db;
    const { tags } = parseTags(ctx.args);
    if (tags.length > 0) catalogue.tag(sha256, tags);
    const all = catalogue.tags(sha256);
    if (all.length === 0) {
      await ctx.reply(`That sticker has no tags yet. Add some with ${ctx.prefix}tag 😂 cat.`);
      return;
    }
    await ctx.reply(`${tags.length > 0 ? 'Tagged' : 'Tags'}: ${all.join(' ')}`);
  },
});
