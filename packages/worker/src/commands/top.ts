import { CommandFailure } from '../router/command-failure.js';
import { defineCommand } from '../router/define-command.js';

/** Most stickers `top` sends. */
export const MAX_TOP = 5;

/** `top [n]`: the most sent stickers of the catalogue. */
export const topCommand = defineCommand({
  name: 'top',
  aliases: ['popular', 'best'],
  summary: 'the most popular stickers',
  usage: `[how many, 1-${MAX_TOP}]`,
  examples: ['top', 'top 5'],
  async run(ctx) {
    const wanted = ctx.args[0] === undefined ? 3 : Number(ctx.args[0]);
    if (!Number.isInteger(wanted) || wanted < 1 || wanted > MAX_TOP) throw new CommandFailure(`Use ${ctx.prefix}top with a number from 1 to ${MAX_TOP}.`);
    const top = ctx.services.db.catalogue.top(wanted);
    if (top.length === 0) throw new CommandFailure(`No stickers yet. Make the first one with ${ctx.prefix}sticker!`);
    await ctx.reply(
      [`Top ${top.length} sticker${top.length === 1 ? '' : 's'}:`, ...top.map((sticker, i) => `${i + 1}. sent ${sticker.timesSent} time${sticker.timesSent === 1 ? '' : 's'}${sticker.animated ? ' (animated)' : ''}`)].join('\n'),
    );
    for (const sticker of top) await ctx.sendSticker(sticker);
  },
});
