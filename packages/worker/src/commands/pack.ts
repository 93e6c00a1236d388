import { CommandFailure } from '../router/command-failure.js';
import { defineCommand } from '../router/define-command.js';
import { splitPair } from '../router/parse.js';

/** `pack <name> | <author>`: my default pack metadata. */
export const packCommand = defineCommand({
  name: 'pack',
  aliases: ['setpack'],
  summary: 'set the pack name and author your stickers get',
  usage: '[name | author] | reset',
  examples: ['pack', 'pack Cats | Alice', 'pack reset'],
  async run(ctx) {
    const { settings } = ctx.services.db;
    const user = ctx.message.sender;
    if (ctx.rest === '') {
      const current = ctx.packFor();
      await ctx.reply(`Your stickers get pack "${current.pack}" by "${current.author}". Change it with ${ctx.prefix}pack name | author.`);
      return;
    }
    if (ctx.rest.toLowerCase() === 'reset') {
      settings.clearPack(user);
      const current = ctx.packFor();
      await ctx.reply(`Back to the default pack "${current.pack}" by "${current.author}".`);
      return;
    }
    const [pack, author] = splitPair(ctx.rest);
    if (!pack) throw new CommandFailure(`Give a pack name: ${ctx.prefix}pack name | author.`);
    if (pack.length > 128 || (author?.length ?? 0) > 128) throw new CommandFailure('Pack name and author can be at most 128 characters each.');
    const finalAuthor = author ?? ctx.message.pushName ?? '';
    settings.setPack(user, { pack, author: finalAuthor });
    await ctx.reply(`Done: your stickers now get pack "${pack}"${finalAuthor ? ` by "${finalAuthor}"` : ''}.`);
  },
});
