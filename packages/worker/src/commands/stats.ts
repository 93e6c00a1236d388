import type { CommandCount } from '../db/stats-store.js';
import { defineCommand } from '../router/define-command.js';

function summary(counts: CommandCount[]): string {
  const total = counts.reduce((sum, count) => sum + count.uses, 0);
  if (total === 0) return 'nothing yet';
  const top = counts.slice(0, 4).map((count) => `${count.command} ${count.uses}`);
  return `${total} command${total === 1 ? '' : 's'} (${top.join(', ')})`;
}

/** `stats`: usage statistics for me, this chat, and everyone. */
export const statsCommand = defineCommand({
  name: 'stats',
  aliases: ['stat', 'usage'],
  summary: 'how much you, this chat and everyone use me',
  usage: '',
  examples: ['stats'],
  async run(ctx) {
    const { stats, catalogue } = ctx.services.db;
    const me = ctx.message.sender;
    const totals = catalogue.totals();
    await ctx.reply(
      [
        `You: ${summary(stats.counts({ user: me }))}; ${catalogue.madeBy(me)} stickers made.`,
        ctx.message.isGroup ? `This chat: ${summary(stats.counts({ chat: ctx.message.chat }))}.` : undefined,
        `Everyone: ${stats.users()} users, ${summary(stats.counts())}.`,
        `Catalogue: ${totals.stickers} different stickers, made ${totals.made} times, sent ${totals.sent} times.`,
      ]
        .filter((line) => line !== undefined)
        .join('\n'),
    );
  },
});
