import { PACK_RULES } from '../db/pack-store.js';
import { CommandFailure } from '../router/command-failure.js';
import { defineCommand } from '../router/define-command.js';
import { splitPair } from '../router/parse.js';
import { packAction } from './pack-collection.js';

/** `pack <name> | <author>`: my default pack metadata; `pack new|add|show|list`: this chat's sticker packs. */
export const packCommand = defineCommand({
  name: 'pack',
  aliases: ['setpack'],
  summary: "set the pack name and author your stickers get, or collect stickers into this chat's packs",
  usage: '[name | author] | reset | new <pack> | add [pack] | show <pack> | list',
  examples: ['pack', 'pack Cats | Alice', 'pack reset', 'pack new Cats', 'pack add Cats (replying to a sticker)', 'pack show Cats', 'pack list'],
  details: `new, add, show and list collect stickers into named packs of this chat (anyone here may add; ${PACK_RULES.minStickers} to ${PACK_RULES.maxStickers} stickers, static and animated not mixed, as WhatsApp wants). add without a name uses the pack you made last. To set a default pack name starting with one of those words, quote it: pack "new wave" | Me.`,
  async run(ctx) {
    const sub = packAction(ctx.rest);
    if (sub) {
      await sub.action(ctx, sub.name);
      return;
    }
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
