import { CommandFailure } from '../router/command-failure.js';
import { defineCommand, type CommandContext } from '../router/define-command.js';

async function mayChange(ctx: CommandContext): Promise<boolean> {
  if (!ctx.message.isGroup || ctx.isOwner) return true;
  const group = await ctx.command('group:metadata', { sessionId: ctx.sessionId, chat: ctx.message.chat });
  return group.participants.some((participant) => participant.jid === ctx.message.sender && participant.admin !== undefined);
}

/** `autosticker on|off`: media sent to this chat becomes a sticker without a command. */
export const autostickerCommand = defineCommand({
  name: 'autosticker',
  aliases: ['auto'],
  summary: 'turn every image or video sent here into a sticker, without a command',
  usage: '[on|off]',
  examples: ['autosticker', 'autosticker off'],
  details: 'On by default in private chats, off in groups. In groups only admins can change it.',
  async run(ctx) {
    const { settings } = ctx.services.db;
    const current = settings.autosticker(ctx.sessionId, ctx.message.chat) ?? !ctx.message.isGroup;
    const wanted = ctx.args[0]?.toLowerCase();
    if (wanted === undefined) {
      await ctx.reply(`Auto-sticker is ${current ? 'on' : 'off'} in this chat. Change it with ${ctx.prefix}autosticker on|off.`);
      return;
    }
    if (wanted !== 'on' && wanted !== 'off') throw new CommandFailure(`Use ${ctx.prefix}autosticker on or ${ctx.prefix}autosticker off.`);
    if (!(await mayChange(ctx))) throw new CommandFailure('Only group admins can change auto-sticker here.');
    settings.setAutosticker(ctx.sessionId, ctx.message.chat, wanted === 'on');
    await ctx.reply(
      wanted === 'on'
        ? 'Auto-sticker is on: every image, GIF or video sent here becomes a sticker.'
        : `Auto-sticker is off: use ${ctx.prefix}sticker when you want one.`,
    );
  },
});
