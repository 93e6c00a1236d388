import { CommandFailure } from '../router/command-failure.js';
import { defineCommand } from '../router/define-command.js';

/** Most stickers `top` sends. */
export const MAX_TOP = 5;
const WEEK_MS = 7 * 24 * 3600 * 1000;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `top [week] [n]`: the most sent and reacted-to stickers this chat may see. */
export const topCommand = defineCommand({
  name: 'top',
  aliases: ['popular', 'best'],
  summary: 'the most popular stickers (sends plus reactions), of all time or this week',
  usage: `[week] [how many, 1-${MAX_TOP}]`,
  examples: ['top', 'top 5', 'top week'],
  details: "Every send of a sticker and every reaction to one I sent counts one. It ranks this chat's stickers and the public ones.",
  async run(ctx) {
    const week = ctx.args[0]?.toLowerCase() === 'week';
    const count = week ? ctx.args[1] : ctx.args[0];
    const wanted = count === undefined ? 3 : Number(count);
    if (!Number.isInteger(wanted) || wanted < 1 || wanted > MAX_TOP) throw new CommandFailure(`Use ${ctx.prefix}top [week] with a number from 1 to ${MAX_TOP}.`);
    const since = week ? ctx.services.now() - WEEK_MS : undefined;
    const top = ctx.services.db.catalogue.top(wanted, { chat: ctx.message.chat }, since);
    if (top.length === 0) {
      throw new CommandFailure(week ? 'No sticker was sent or reacted to here this week.' : `No stickers yet. Make the first one with ${ctx.prefix}sticker!`);
    }
    const lines = top.map((sticker, i) => {
      const sends = sticker.score - sticker.reactions;
      const parts = [`sent ${sends === 1 ? '1 time' : `${sends} times`}`, ...(sticker.reactions > 0 ? [plural(sticker.reactions, 'reaction')] : [])];
      return `${i + 1}. ${parts.join(', ')}${sticker.animated ? ' (animated)' : ''}`;
    });
    await ctx.reply([`Top ${plural(top.length, 'sticker')}${week ? ' this week' : ''}:`, ...lines].join('\n'));
    for (const sticker of top) await ctx.sendSticker(sticker);
  },
});
