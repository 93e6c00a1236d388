import { CommandFailure } from '../router/command-failure.js';
import { defineCommand } from '../router/define-command.js';

/** `public [on|off]`: lets every chat see (or stops it seeing) the replied-to sticker. */
export const publicCommand = defineCommand({
  name: 'public',
  aliases: ['share'],
  summary: "make a sticker findable in every chat, or this chat's only again (reply to the sticker)",
  usage: '[on|off]',
  examples: ['public (replying to a sticker)', 'public off (replying to a sticker)'],
  details:
    "A sticker stays in the chats it was made or sent in: a group's stickers are found only in that group, a private chat's only there. Its maker (whoever first had me make it) and the bot's owners may make it public, so find, random and top show it everywhere.",
  async run(ctx) {
    const value = (ctx.args[0] ?? 'on').toLowerCase();
    if (value !== 'on' && value !== 'off') throw new CommandFailure(`Use ${ctx.prefix}public or ${ctx.prefix}public off, replying to a sticker.`);
    const sha256 = await ctx.quotedSticker();
    if (sha256 === undefined) throw new CommandFailure(`Reply to a sticker with ${ctx.prefix}public.`);
    const { catalogue } = ctx.services.db;
    const sticker = catalogue.get(sha256);
    // A sticker I never sent was catalogued just now, naming whoever replied as its maker: only owners decide for those.
    const maker = sticker !== undefined && sticker.timesSent > 0 && sticker.creator === ctx.message.sender;
    if (!ctx.isOwner && !maker) {
      throw new CommandFailure("Only the sticker's maker and the bot's owners can change who sees it.");
    }
    catalogue.setPublic(sha256, value === 'on');
    await ctx.reply(value === 'on' ? 'That sticker is public now: every chat can find it.' : 'That sticker is back to the chats it was made or sent in.');
  },
});
