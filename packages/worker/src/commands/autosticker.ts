import { CommandFailure } from '../router/command-failure.js';
import { defineCommand, type CommandContext } from '../router/define-command.js';

/**
 * Owners anywhere, anyone in a private chat, admins in a group. The admin list is the
 * daemon's cached group metadata; a member may be listed by LID, so they are matched by
 * phone-number JID or by LID, whichever both sides know.
 */
async function mayChange(ctx: CommandContext): Promise<boolean> {
  const { message } = ctx;
  if (!message.isGroup || ctx.isOwner) return true;
  const group = await ctx.command('group:metadata', { sessionId: ctx.sessionId, chat: message.chat });
  const ids = new Set([message.sender, message.senderLid].filter((id) => id !== undefined));
  return group.participants.some((p) => p.admin !== undefined && (ids.has(p.jid) || (p.lid !== undefined && ids.has(p.lid))));
}

/** `autosticker on|off`: media sent to this chat becomes a sticker without a command. */
export const autostickerCommand = defineCommand({
  name: 'autosticker',
  aliases: ['auto'],
  summary: 'turn every image or video sent here into a sticker, without a command',
  usage: '[on|off]',
  examples: ['autosticker', 'autosticker off'],
  details: "On by default in private chats, off in groups. In a group only its admins and the bot's owners can change it.",
  async run(ctx) {
    const { settings } = ctx.services.db;
    const current = settings.autosticker(ctx.sessionId, ctx.message.chat) ?? !ctx.message.isGroup;
    const wanted = ctx.args[0]?.toLowerCase();
    if (wanted === undefined) {
      await ctx.reply(`Auto-sticker is ${current ? 'on' : 'off'} in this chat. Change it with ${ctx.prefix}autosticker on|off.`);
      return;
    }
    if (wanted !== 'on' && wanted !== 'off') throw new CommandFailure(`Use ${ctx.prefix}autosticker on or ${ctx.prefix}autosticker off.`);
    if (!(await mayChange(ctx))) throw new CommandFailure("Only this group's admins and the bot's owners can switch auto-sticker here.");
    settings.setAutosticker(ctx.sessionId, ctx.message.chat, wanted === 'on');
    await ctx.reply(
      wanted === 'on'
        ? 'Auto-sticker is on: every image, GIF or video sent here becomes a sticker.'
        : `Auto-sticker is off: use ${ctx.prefix}sticker when you want one.`,
    );
  },
});
